import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { CheckpointError, memoryStore, RunFailedError, requires, TaskFailedError, task } from 'checkpoint-tool';
import { recorder } from './helpers.js';

const execFileAsync = promisify(execFile);

// Synchronous computations run as soon as they are dispatched, without a promise of their own:
// these tests pin what must not change with that.

test('20,000 synchronous failures under keepGoing are each reported, without exhausting the stack', async () => {
  const store = memoryStore();
  let broken = true;
  const leaf = task('dispatch-leaf', (i: number) => () => {
    if (broken && i % 2 === 1) throw new RangeError(`odd ${i}`);
    return i;
  });
  const sum = task('dispatch-sum', (n: number) =>
    requires(Array.from({ length: n }, (_, i) => leaf(i)))((values) => values.reduce((a, b) => a + b, 0)),
  );
  await assert.rejects(sum(20_000).run({ store, keepGoing: true }), (error: unknown) => {
    assert.ok(error instanceof RunFailedError);
    assert.equal(error.failures.length, 10_000);
    assert.ok(error.failures.every((failure) => (failure.args[0] as number) % 2 === 1));
    return true;
  });
  broken = false;
  const events = recorder();
  assert.equal(await sum(20_000).run({ store, onEvent: events.onEvent }), (20_000 * 19_999) / 2);
  // The even leaves were stored by the failed run: only the odd ones and the sum are computed.
  assert.equal(events.labels('finished').length, 10_001);
  assert.ok(!events.labels('finished').includes('dispatch-leaf(0)'));
});

test('a computation may return any thenable, not only a Promise', async () => {
  const store = memoryStore();
  // A plain object with a `then` method, as some libraries return.
  const later: PromiseLike<number> = {
    // biome-ignore lint/suspicious/noThenProperty: the point of the test is a foreign thenable
    then: (onFulfilled, onRejected) =>
      new Promise<number>((resolve) => setTimeout(() => resolve(42), 1)).then(onFulfilled, onRejected),
  };
  const answer = task('dispatch-thenable', () => () => later);
  const double = task('dispatch-double', () => requires(answer())((value) => value * 2));
  assert.equal(await double().run({ store }), 84);
  const events = recorder();
  assert.equal(await double().run({ store, onEvent: events.onEvent }), 84);
  assert.deepEqual(events.labels('finished'), []);
});

test("a store's lock may be any thenable, even one whose then() returns nothing", async () => {
  const inner = memoryStore();
  let locked = 0;
  const store = {
    ...inner,
    lock: (_folder: string, _key: string) => ({
      // biome-ignore lint/suspicious/noThenProperty: the point of the test is a foreign thenable
      then(onFulfilled: (release: () => Promise<void>) => unknown) {
        locked++;
        setTimeout(() => onFulfilled(async () => {}), 1);
      },
    }),
  } as typeof inner;
  const leaf = task('dispatch-locked-leaf', (i: number) => () => i + 1);
  const sum = task('dispatch-locked-sum', () => requires(leaf(1), leaf(2))((a, b) => a + b));
  assert.equal(await sum().run({ store }), 5);
  assert.equal(locked, 3);
  assert.equal(await sum().run({ store: inner }), 5);
});

test('a listener that throws fails the run, not the instance: the run rejects with a CheckpointError naming the event', async () => {
  const store = memoryStore();
  const leaf = task('dispatch-listened', (i: number) => () => i);
  const top = task('dispatch-top', () => requires(leaf(1), leaf(2))((a, b) => a + b));
  const listenerError = new Error('listener broke');
  const seen = recorder();
  const onEvent = (event: Parameters<typeof seen.onEvent>[0]) => {
    seen.onEvent(event);
    if (event.type === 'finished' && event.instance.label === 'dispatch-listened(1)') throw listenerError;
  };
  await assert.rejects(top().run({ store, onEvent }), (error: unknown) => {
    assert.ok(error instanceof CheckpointError && !(error instanceof TaskFailedError), String(error));
    assert.equal(error.message, 'onEvent threw on the finished event of dispatch-listened(1): Error: listener broke');
    assert.equal(error.cause, listenerError);
    return true;
  });
  assert.deepEqual(seen.labels('failed'), [], 'no instance failed');
  assert.deepEqual(seen.labels('skipped'), ['dispatch-listened(2)', 'dispatch-top()'], 'no new work after it threw');
  const events = recorder();
  assert.equal(await top().run({ store, onEvent: events.onEvent }), 3);
  // Stored before its event was told: not computed again.
  assert.deepEqual(events.labels('cached'), ['dispatch-listened(1)']);
  assert.deepEqual(events.labels('finished'), ['dispatch-listened(2)', 'dispatch-top()']);
});

test('under keepGoing, a listener that throws stops nothing: everything is computed, then the run rejects', async () => {
  const store = memoryStore();
  const ran: string[] = [];
  const a = task('dispatch-a', () => () => ran.push('a'));
  const b = task('dispatch-b', () => requires(a())(() => ran.push('b')));
  const c = task('dispatch-c', () => requires(b())(() => ran.push('c')));
  const onEvent = (event: { type: string; instance: { label: string } }) => {
    if (event.type === 'finished' && event.instance.label === 'dispatch-a()') throw new Error('listener broke');
  };
  await assert.rejects(
    c().run({ store, keepGoing: true, onEvent }),
    /onEvent threw on the finished event of dispatch-a\(\)/,
  );
  assert.deepEqual(ran, ['a', 'b', 'c']);
  assert.equal(await c().run({ store }), 3, 'all stored');
});

test('a listener that throws on started or planned never keeps a computation from running or being stored', async () => {
  const store = memoryStore();
  let runs = 0;
  const counted = task('dispatch-started-throws', () => () => ++runs);
  await assert.rejects(
    counted().run({
      store,
      onEvent: (event) => {
        if (event.type === 'started') throw new Error('on started');
      },
    }),
    /onEvent threw on the started event of dispatch-started-throws\(\): Error: on started/,
  );
  assert.equal(runs, 1);
  assert.equal(await counted().run({ store }), 1, 'computed and stored once');
  const other = task('dispatch-planned', () => () => ++runs);
  const events = recorder();
  await assert.rejects(
    other().run({
      store,
      onEvent: (event) => {
        events.onEvent(event);
        if (event.type === 'planned') throw new Error('on planned');
      },
    }),
    /onEvent threw on the planned event of dispatch-planned\(\)/,
  );
  assert.deepEqual(events.labels('skipped'), ['dispatch-planned()'], 'nothing starts');
  assert.equal(runs, 1);
});

test('an executor may call started() whether or not the run listens to events', async () => {
  const store = memoryStore();
  const where: string[] = [];
  const calling = {
    concurrency: 1,
    execute(job: { inputs: readonly unknown[] }, context: { started?: (where: string) => void }) {
      (context.started as (where: string) => void)('here');
      where.push('called');
      return job.inputs.length;
    },
  };
  const leaf = task('dispatch-started', () => () => 0);
  assert.equal(await leaf().run({ store, executor: calling }), 0);
  assert.deepEqual(where, ['called']);
});

test('a run settles even when a listener throws on the skipped event that ends it', async () => {
  const store = memoryStore();
  const broken = task('dispatch-broken', () => async () => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    throw new RangeError('broken');
  });
  const after = task('dispatch-after-broken', () => requires(broken())((value) => value));
  const onEvent = (event: { type: string }) => {
    if (event.type === 'skipped') throw new Error('listener broke on skipped');
  };
  await assert.rejects(after().run({ store, onEvent }), (error: unknown) => {
    assert.ok(error instanceof TaskFailedError);
    assert.ok(error.cause instanceof RangeError);
    return true;
  });
});

test('an async listener that rejects fails the run as one that throws, and the run settles after its promises', async () => {
  const store = memoryStore();
  const leaf = task('dispatch-async-leaf', (i: number) => () => i);
  const top = task('dispatch-async-top', () => requires(leaf(1), leaf(2))((a, b) => a + b));
  const logged: string[] = [];
  const onEvent = async (event: { type: string; instance: { label: string } }) => {
    await new Promise((resolve) => setTimeout(resolve, 1));
    logged.push(`${event.type} ${event.instance.label}`);
  };
  assert.equal(await top().run({ store, onEvent }), 3);
  assert.ok(logged.includes('finished dispatch-async-top()'), 'the last event was handled before the run settled');
  // A signal fired while the run waits for its listener, once everything is done, cancels nothing.
  const controller = new AbortController();
  const late = task('dispatch-async-late', () => () => 4);
  const lateListener = async (event: { type: string }) => {
    if (event.type !== 'finished') return;
    await new Promise((resolve) => setTimeout(resolve, 1));
    controller.abort();
  };
  assert.equal(await late().run({ store, signal: controller.signal, onEvent: lateListener }), 4);
  // Rejecting on the run's last event: the run rejects, rather than the process meeting an
  // unhandled rejection after the run has resolved.
  const listenerError = new Error('could not write the log');
  await assert.rejects(
    top().run({
      store,
      onEvent: async (event) => {
        if (event.type === 'cached' && event.instance.label === 'dispatch-async-top()') throw listenerError;
      },
    }),
    (error: unknown) => {
      assert.ok(error instanceof CheckpointError && !(error instanceof TaskFailedError), String(error));
      assert.equal(
        error.message,
        'onEvent threw on the cached event of dispatch-async-top(): Error: could not write the log',
      );
      assert.equal(error.cause, listenerError);
      return true;
    },
  );
});

test("an async listener's settled promises are not kept until the run ends", async () => {
  // In processes of their own: the test runner's hooks on promises weigh on the heap here.
  const heapAtTop = async (listener: 'sync' | 'async') => {
    const script = new URL('./fixtures/listener-heap-run.ts', import.meta.url).pathname;
    const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', '--import', 'tsx', script, listener]);
    return Number(stdout.trim());
  };
  const sync = await heapAtTop('sync');
  const async = await heapAtTop('async');
  assert.ok(sync > 0);
  // Kept until the run ends, the 150,000 settled promises of 50,000 leaves weighed about 8 MB.
  assert.ok(async - sync < 3e6, `an async listener left ${((async - sync) / 1e6).toFixed(1)} MB more`);
});
