// Cancelling as a reactive app does, all the time: before a pool's worker has loaded, during
// planning, and many times over on one pool and one signal.
import assert from 'node:assert/strict';
import { EventEmitter, getEventListeners, once } from 'node:events';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  AbortError,
  currentSignal,
  type Executor,
  memoryStore,
  nodePool,
  requires,
  type Store,
  task,
} from 'checkpoint-tool';
import { announced, sleeps } from './fixtures/cancel-tasks.js';
import { square, sumOfSquares, untilCancelled } from './fixtures/pool-tasks.js';
import { deferred, recorder } from './helpers.js';

const tasksModule = new URL('./fixtures/pool-tasks.ts', import.meta.url);

test('a run cancelled while its worker is still loading never starts the job posted to it; the worker serves on', {
  timeout: 20_000,
}, async () => {
  // Both ignore their signal once started: `square` never looks, `untilCancelled` only waits for it.
  for (const instance of [square(4), untilCancelled('loading')]) {
    const pool = nodePool(tasksModule, { size: 1 });
    try {
      const store = memoryStore();
      const controller = new AbortController();
      // Cancelled as soon as the job is posted to the worker, which is loading.
      const executor: Executor = {
        concurrency: 1,
        execute(job, context) {
          const result = pool.execute(job, context);
          controller.abort(new Error('the page moved on'));
          return result;
        },
      };
      const events = recorder();
      await assert.rejects(
        instance.run({ executor, store, signal: controller.signal, onEvent: events.onEvent }),
        (error: unknown) => error instanceof AbortError && error.cause === controller.signal.reason,
      );
      assert.deepEqual(
        events.events.map((event) => event.type),
        ['planned', 'skipped'],
      );
      assert.deepEqual(await store.keys(instance.task.id), []);
      const workers: string[] = [];
      const value = await square(5).run({
        executor: pool,
        store,
        onEvent: (event) => event.type === 'started' && workers.push(event.worker),
      });
      assert.equal(value.value, 25);
      assert.deepEqual(workers, ['worker-1']);
    } finally {
      await pool.close();
    }
  }
});

test('in runs without a signal, each computation gets a signal of its own: the listeners others left on theirs do not pile up', async () => {
  const signals: AbortSignal[] = [];
  // Races its work with its signal, the usual way; the listener stays once it has finished.
  const races = task('signal-races', (i: number) => () => {
    const signal = currentSignal();
    signals.push(signal);
    return new Promise<number>((resolve, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
      setImmediate(() => resolve(i));
    });
  });
  for (let i = 0; i < 20; i++) await races(i).run({ store: memoryStore() });
  assert.equal(signals.length, 20);
  assert.equal(new Set(signals).size, 20);
  assert.ok(signals.every((signal) => !signal.aborted));
  assert.equal(getEventListeners(signals[19] as AbortSignal, 'abort').length, 1);
});

/** A memory store whose metadata reads wait until `open()` (a blocked IndexedDB, a slow network disk); counts them. */
function stalledStore() {
  const inner = memoryStore();
  const { promise: gate, resolve: open } = deferred();
  const reads = { count: 0 };
  const store: Store = {
    ...inner,
    async readMeta(folder, key) {
      reads.count++;
      await gate;
      return inner.readMeta(folder, key);
    },
    readMetas: undefined,
  };
  return { store, open, reads };
}

const planLeaf = task('signal-plan-leaf', (i: number) => () => i);
const planSum = task('signal-plan-sum', (n: number) =>
  requires(...Array.from({ length: n }, (_, i) => planLeaf(i)))((...values) => values.reduce((a, b) => a + b, 0)),
);

test('a run cancelled while it plans rejects at once, without waiting for its store’s reads: all planned, then skipped', async () => {
  const { store, open, reads } = stalledStore();
  const controller = new AbortController();
  const events = recorder();
  const running = planSum(3).run({ store, signal: controller.signal, onEvent: events.onEvent });
  while (reads.count === 0) await new Promise((resolve) => setImmediate(resolve));
  controller.abort(new Error('the input changed'));
  await assert.rejects(
    running,
    (error: unknown) => error instanceof AbortError && error.cause === controller.signal.reason,
  );
  const labels = ['signal-plan-leaf(0)', 'signal-plan-leaf(1)', 'signal-plan-leaf(2)', 'signal-plan-sum(3)'];
  assert.deepEqual(events.labels('planned').sort(), labels);
  assert.deepEqual(events.labels('skipped').sort(), labels);
  assert.equal(events.events.length, 8);
  open();
});

test('a run whose signal fired before it was called reads nothing from its store', async () => {
  const { store, open, reads } = stalledStore();
  const events = recorder();
  const reason = new Error('gone already');
  await assert.rejects(
    planSum(2).run({ store, signal: AbortSignal.abort(reason), onEvent: events.onEvent }),
    (error: unknown) => error instanceof AbortError && error.cause === reason,
  );
  assert.equal(reads.count, 0);
  assert.deepEqual(events.labels('skipped').length, 3);
  open();
});

test('an abort sent as a job finishes never reaches the next job of its worker', { timeout: 30_000 }, async () => {
  const pool = nodePool(new URL('./fixtures/cancel-tasks.ts', import.meta.url), { size: 1 });
  const channel = `announced-${process.pid}-${Math.random()}`;
  // Each job of a cancelled run says it is finishing: its run is cancelled then, as its answer
  // travels back, while the next job (of a run nobody cancels) waits for the worker.
  const finishing = new BroadcastChannel(channel);
  const controllers = new Map<number, AbortController>();
  finishing.onmessage = (event: MessageEvent<number>) => controllers.get(event.data)?.abort();
  const outcomes = { cancelled: 0, finished: 0 };
  try {
    for (let i = 1; i <= 100; i++) {
      const controller = new AbortController();
      controllers.set(i, controller);
      const store = memoryStore();
      const cancelled = announced(channel, i, i % 3).run({ executor: pool, store, signal: controller.signal });
      const next = announced(channel, -i, 1 + (i % 3)).run({ executor: pool, store });
      await cancelled.then(
        () => outcomes.finished++,
        (error: unknown) => {
          assert.ok(error instanceof AbortError, String(error));
          outcomes.cancelled++;
        },
      );
      assert.deepEqual(await next, { i: -i, aborted: false });
    }
  } finally {
    finishing.close();
    await pool.close();
  }
  assert.equal(outcomes.cancelled + outcomes.finished, 100);
});

test('a signal shared by many runs on a pool keeps no listener of their jobs, queued or posted', {
  timeout: 30_000,
}, async () => {
  const pool = nodePool(tasksModule, { size: 2 });
  const lifetime = new AbortController();
  try {
    // Six jobs a run on two workers: four wait in the pool's queue at first.
    for (let i = 0; i < 200; i++) {
      const value = await sumOfSquares(5).run({ executor: pool, store: memoryStore(), signal: lifetime.signal });
      assert.equal(value.value, 55);
    }
    assert.equal(getEventListeners(lifetime.signal, 'abort').length, 0);
  } finally {
    await pool.close();
  }
});

test('a computation stopped by a Node API given its signal (an AbortError of Node’s, the reason as its cause) is skipped, not failed', {
  timeout: 20_000,
}, async () => {
  const waits = task('signal-node-apis', (api: string) => async () => {
    const signal = currentSignal();
    if (api === 'events.once') await once(new EventEmitter(), 'never', { signal });
    else await sleep(10_000, undefined, { signal });
    return api;
  });
  const pool = nodePool(new URL('./fixtures/cancel-tasks.ts', import.meta.url), { size: 1 });
  try {
    const runs = [
      { instance: waits('timers/promises'), executor: undefined },
      { instance: waits('events.once'), executor: undefined },
      { instance: sleeps(10_000), executor: pool },
    ];
    for (const { instance, executor } of runs) {
      const store = memoryStore();
      const controller = new AbortController();
      const events = recorder();
      const running = instance.run({
        store,
        executor,
        signal: controller.signal,
        onEvent: (event) => {
          events.onEvent(event);
          if (event.type === 'started') setImmediate(() => controller.abort(new Error('the input changed')));
        },
      });
      await assert.rejects(running, (error: unknown) => {
        assert.ok(error instanceof AbortError, `${instance.label}: ${error}`);
        return true;
      });
      assert.deepEqual(events.labels('skipped'), [instance.label]);
      assert.deepEqual(await store.keys(instance.task.id), []);
    }
  } finally {
    await pool.close();
  }
});
