// A computation's `currentSignal()`: it fires when the run computing it is cancelled, in process
// and in a pool's worker, and a computation that stops with its reason is skipped, not failed.
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { test } from 'node:test';
import {
  AbortError,
  CheckpointError,
  Computation,
  currentSignal,
  type Executor,
  memoryStore,
  nodePool,
  type RunEvent,
  requires,
  type Store,
  TaskFailedError,
  task,
} from 'checkpoint-tool';
import { keepSignal, keptFired, spins, square, untilCancelled } from './fixtures/pool-tasks.js';

const NONE_GIVEN: never[] = [];

/**
 * Runs `run` with a signal that fires, with `reason`, once the instance has started: just after its
 * `started` event (in process, once its computation has been called), or, `inListener`, in the
 * listener of that event.
 */
async function cancelledOnceStarted(
  run: (options: { signal: AbortSignal; onEvent: (event: RunEvent) => void }) => Promise<unknown>,
  reason?: unknown,
  inListener = false,
): Promise<{ error: unknown; events: string[]; workers: string[] }> {
  const controller = new AbortController();
  const events: string[] = [];
  const workers: string[] = [];
  const error = await run({
    signal: controller.signal,
    onEvent: (event) => {
      events.push(`${event.type} ${event.instance.label}`);
      if (event.type === 'started') {
        workers.push(event.worker);
        if (inListener) controller.abort(reason);
        else queueMicrotask(() => controller.abort(reason));
      }
    },
  }).then(
    (value) => assert.fail(`the run resolved with ${String(value)}`),
    (thrown: unknown) => thrown,
  );
  return { error, events, workers };
}

/**
 * Runs `untilCancelled(tag)` (in process, or on `executor`), cancels the run once it has started,
 * and checks that it stopped as its signal asked: the run rejects with the reason as the cause,
 * the instance is skipped, nothing is stored. Gives the workers it started on.
 */
async function stoppedWhenCancelled(tag: string, store: Store, executor?: Executor): Promise<string[]> {
  const reason = new Error('the page moved on');
  const { error, events, workers } = await cancelledOnceStarted(
    (options) => untilCancelled(tag).run({ store, executor, ...options }),
    reason,
  );
  assert.ok(error instanceof AbortError, String(error));
  assert.equal(error.cause, reason);
  const label = `pool.untilCancelled(${JSON.stringify(tag)})`;
  assert.deepEqual(events, [`planned ${label}`, `started ${label}`, `skipped ${label}`]);
  assert.deepEqual(await store.keys('pool.untilCancelled'), []);
  return workers;
}

/** Runs `square(3)` on `pool`, checks its value, and gives the workers it started on. */
async function nextJobWorkers(pool: Executor, store: Store): Promise<string[]> {
  const workers: string[] = [];
  const value = await square(3).run({
    executor: pool,
    store,
    onEvent: (event) => event.type === 'started' && workers.push(event.worker),
  });
  assert.equal(value.value, 9);
  return workers;
}

test('in process, a computation waiting on its signal stops when the run is cancelled: skipped, nothing stored', {
  timeout: 20_000,
}, async () => {
  // The pool tests' task, here in process.
  await stoppedWhenCancelled('main', memoryStore());
});

test('a computation checking its signal between steps stops there; one throwing something else fails', {
  timeout: 20_000,
}, async () => {
  let steps = 0;
  const loops = task('signal-loops', (other: boolean) => async () => {
    const signal = currentSignal();
    for (;;) {
      await new Promise((resolve) => setImmediate(resolve));
      steps++;
      if (other && signal.aborted) throw new Error('gave up');
      signal.throwIfAborted();
    }
  });
  const stopped = await cancelledOnceStarted((options) => loops(false).run({ store: memoryStore(), ...options }));
  assert.ok(stopped.error instanceof AbortError, String(stopped.error));
  assert.ok(steps >= 1);
  // An error of its own, even once the signal fired, is a failure as ever.
  const failed = await cancelledOnceStarted((options) => loops(true).run({ store: memoryStore(), ...options }));
  assert.ok(failed.error instanceof TaskFailedError, String(failed.error));
  assert.match(String((failed.error as Error).cause), /gave up/);
});

test('a run without a signal gives computations one that never fires', async () => {
  const reads = task('signal-none', () => () => currentSignal().aborted);
  assert.equal(await reads().run({ store: memoryStore() }), false);
});

test('currentSignal() outside a computation, or after its first await, throws saying where to call it', async () => {
  assert.throws(() => currentSignal(), {
    name: 'CheckpointError',
    message: /currentSignal\(\) was called outside a computation, or after its first `await`/,
  });
  const late = task('signal-late', () => async () => {
    await undefined;
    return currentSignal().aborted;
  });
  await assert.rejects(late().run({ store: memoryStore() }), (error: unknown) => {
    assert.ok(error instanceof TaskFailedError);
    assert.ok(error.cause instanceof CheckpointError);
    return true;
  });
});

test('in a worker, the computation’s signal fires when the run is cancelled: skipped, and the worker serves on', {
  timeout: 20_000,
}, async () => {
  const pool = nodePool(new URL('./fixtures/pool-tasks.js', import.meta.url), { size: 1 });
  const store = memoryStore();
  try {
    const workers = await stoppedWhenCancelled('a', store, pool);
    // The same worker takes the next job: it was not stopped to stop the computation.
    assert.deepEqual(await nextJobWorkers(pool, store), workers);
  } finally {
    await pool.close();
  }
});

test('in a worker, a signal a computation kept past its end never fires when a later job there is cancelled', {
  timeout: 20_000,
}, async () => {
  const pool = nodePool(new URL('./fixtures/pool-tasks.js', import.meta.url), { size: 1 });
  const store = memoryStore();
  try {
    const running = new AbortController();
    assert.equal(await keepSignal('kept').run({ executor: pool, store, signal: running.signal }), 1);
    const [worker] = await stoppedWhenCancelled('after kept', store, pool);
    const workers: string[] = [];
    const fired = await keptFired(1).run({
      executor: pool,
      store,
      onEvent: (event) => event.type === 'started' && workers.push(event.worker),
    });
    // One worker ran all three jobs, so the kept signal lives where the cancel happened.
    assert.deepEqual(workers, [worker]);
    assert.deepEqual(fired, [false]);
  } finally {
    await pool.close();
  }
});

test('computations get signals of their own that follow the run’s: the run’s signal keeps one listener of theirs, and none after', async () => {
  const controller = new AbortController();
  const run = controller.signal;
  const seen: AbortSignal[] = [];
  let most = 0;
  // Twenty at once, each listening to its signal (as a fetch given it does) until it ends.
  const listens = task('signal-listens', (i: number) => async () => {
    const signal = currentSignal();
    assert.equal(currentSignal(), signal, 'the same signal for one computation');
    seen.push(signal);
    const stop = () => {};
    signal.addEventListener('abort', stop);
    most = Math.max(most, getEventListeners(run, 'abort').length);
    await new Promise((resolve) => setImmediate(resolve));
    return i;
  });
  const all = task('signal-listens-all', () =>
    requires(Array.from({ length: 20 }, (_, i) => listens(i)))((values) => values.length),
  );
  const before = getEventListeners(run, 'abort').length;
  assert.equal(await all().run({ store: memoryStore(), signal: run }), 20);
  assert.equal(new Set(seen).size, 20);
  // The run's own listener, and one for its computations' signals.
  assert.ok(most <= before + 2, `the run's signal had ${most} listeners`);
  // Reused for another run, the signal still fires its computation's.
  const second = untilCancelled('followed').run({
    store: memoryStore(),
    signal: run,
    // Once it has started: cancelled in the listener, it would not start at all.
    onEvent: (event) => event.type === 'started' && queueMicrotask(() => controller.abort()),
  });
  // Had its signal not fired, it would fail after 10 s instead.
  await assert.rejects(second, AbortError);
});

test('with `cancelGrace`, a pool stops the worker of a job that goes on running once its run is cancelled: skipped, nothing stored', {
  timeout: 30_000,
}, async () => {
  const pool = nodePool(new URL('./fixtures/pool-tasks.js', import.meta.url), { size: 1, cancelGrace: 0 });
  const store = memoryStore();
  try {
    // It would spin for 10 s: the signal cannot reach it, only stopping its worker can.
    const { error, events, workers } = await cancelledOnceStarted((options) =>
      spins(10_000).run({ executor: pool, store, ...options }),
    );
    assert.ok(error instanceof AbortError, String(error));
    assert.deepEqual(events, ['planned pool.spins(10000)', 'started pool.spins(10000)', 'skipped pool.spins(10000)']);
    assert.deepEqual(await store.keys('pool.spins'), []);
    // A new worker takes the next job.
    const next = await nextJobWorkers(pool, store);
    assert.equal(next.length, 1);
    assert.notEqual(next[0], workers[0]);
  } finally {
    await pool.close();
  }
});

test('a computation that calls another computation synchronously keeps its own signal', async () => {
  const inner = new Computation(NONE_GIVEN, 'positional', NONE_GIVEN, () => currentSignal());
  const outer = task('signal-nested', () => () => {
    const mine = currentSignal();
    const theirs = inner.compute([]) as AbortSignal;
    return [mine === currentSignal(), theirs !== mine];
  });
  assert.deepEqual(await outer().run({ store: memoryStore() }), [true, true]);
});

test('in process, a run cancelled by a listener of a `started` event does not start that computation', async () => {
  let called = false;
  const once = task('signal-not-started', () => () => {
    called = true;
    return 1;
  });
  const store = memoryStore();
  const { error, events } = await cancelledOnceStarted((options) => once().run({ store, ...options }), undefined, true);
  assert.ok(error instanceof AbortError, String(error));
  assert.equal(called, false);
  assert.deepEqual(events, [
    'planned signal-not-started()',
    'started signal-not-started()',
    'skipped signal-not-started()',
  ]);
  assert.deepEqual(await store.keys('signal-not-started'), []);
});
