import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, memoryStore, requires, type Store, TaskFailedError, task } from 'checkpoint-tool';
import { deferred, recorder } from './helpers.js';

/** A memory store with locks that are granted only when `grant()` is called (another process holding them). */
function gatedStore() {
  const inner = memoryStore();
  const { promise: gate, resolve: open } = deferred();
  const released: string[] = [];
  const store: Store = {
    ...inner,
    async lock(_folder, key) {
      await gate;
      return async () => {
        released.push(key);
      };
    },
  };
  return { store, grant: () => open(), released };
}

test('a run cancelled while its instances wait for their locks settles at once, computing none of them', async () => {
  const { store, grant, released } = gatedStore();
  let computed = 0;
  const leaf = task('stop-lock-leaf', (i: number) => () => ++computed + i);
  const sum = task('stop-lock-sum', () => requires(leaf(1), leaf(2))((a, b) => a + b));
  const controller = new AbortController();
  const events = recorder();
  const running = sum().run({ store, signal: controller.signal, onEvent: events.onEvent });
  setImmediate(() => controller.abort());
  await assert.rejects(running, AbortError);
  assert.equal(computed, 0);
  assert.deepEqual(events.labels('skipped').sort(), ['stop-lock-leaf(1)', 'stop-lock-leaf(2)', 'stop-lock-sum()']);
  // The locks, taken later, are released at once.
  grant();
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(released.sort(), ['[1]', '[2]']);
  assert.equal(computed, 0);
});

test('after a failure (without keepGoing), instances that were waiting for their locks are not computed', async () => {
  const inner = memoryStore();
  const { promise: gate, resolve: open } = deferred();
  // The failing task's lock is free; the others wait until the failure is known.
  const store: Store = {
    ...inner,
    async lock(folder) {
      if (folder !== 'stop-fail-bad') await gate;
      return async () => {};
    },
  };
  let computed = 0;
  const good = task('stop-fail-good', (i: number) => () => ++computed + i);
  const bad = task('stop-fail-bad', () => () => {
    throw new RangeError('bad');
  });
  const root = task('stop-fail-root', () => requires(good(1), bad(), good(2))((a, b, c) => a + b + c));
  const running = root().run({ store });
  await assert.rejects(running, TaskFailedError);
  open();
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(computed, 0);
});

test('a run cancelled while inputs are read from the store computes nothing once they arrive', async () => {
  const inner = memoryStore();
  const leaf = task('stop-read-leaf', (i: number) => () => i);
  const top = task('stop-read-top', (n: number) => requires(leaf(1), leaf(2))((a, b) => a + b + n));
  await top(0).run({ store: inner });
  let computedTop = 0;
  const counted = task('stop-read-counted', () =>
    requires(top(1))((value) => {
      computedTop++;
      return value;
    }),
  );
  const { promise: reads, resolve: arrive } = deferred();
  const slow: Store = {
    ...inner,
    async readValue(folder, key) {
      await reads;
      return inner.readValue(folder, key);
    },
  };
  const controller = new AbortController();
  // top(1) reads leaf(1) and leaf(2), cached: the reads wait; the run is cancelled meanwhile.
  const running = counted().run({ store: slow, signal: controller.signal });
  await new Promise((resolve) => setImmediate(resolve));
  controller.abort();
  arrive();
  await assert.rejects(running, AbortError);
  assert.equal(computedTop, 0);
  assert.equal(await inner.readMeta('stop-read-top', '[1]'), undefined, 'top(1) not computed');
});

test('a listener that cancels the run on the first of several failing factories: each is reported failed once', async () => {
  const x = task('stop-broken-x', (): (() => number) => {
    throw new Error('x factory');
  });
  const y = task('stop-broken-y', (): (() => number) => {
    throw new Error('y factory');
  });
  const root = task('stop-broken-root', () => requires(x(), y())((a, b) => a + b));
  const controller = new AbortController();
  const events = recorder();
  await assert.rejects(
    root().run({
      store: memoryStore(),
      signal: controller.signal,
      keepGoing: true,
      onEvent: (event) => {
        events.onEvent(event);
        if (event.type === 'failed') controller.abort();
      },
    }),
    (error: unknown) => error instanceof Error && error.name === 'RunFailedError',
  );
  assert.deepEqual(events.labels('failed'), ['stop-broken-x()', 'stop-broken-y()']);
  assert.deepEqual(events.labels('skipped'), ['stop-broken-root()']);
});

test('a recomputation an executor rejects as cancelled skips its dependents: the run is cancelled, nothing failed', async () => {
  const leaf = task('stop-queued-leaf', () => () => 1);
  const mid = task('stop-queued-mid', () => requires(leaf())((x) => x + 1));
  const root = task('stop-queued-root', () => requires(mid())((x) => x + 1));
  const inner = memoryStore();
  await leaf().run({ store: inner });
  const controller = new AbortController();
  // An executor that queues like a pool, and rejects what it had not started once cancelled.
  const queueing = {
    concurrency: 4,
    execute: (job: { inputs: readonly unknown[] }, context: { signal?: AbortSignal }) =>
      new Promise((resolve, reject) => {
        controller.abort();
        setImmediate(() =>
          context.signal?.aborted ? reject(new AbortError('cancelled before it started')) : resolve(job.inputs.length),
        );
      }),
  };
  const events = recorder();
  const warn = console.warn;
  console.warn = () => {};
  try {
    await assert.rejects(
      root().run({
        store: { ...inner, readValue: async () => undefined },
        executor: queueing as never,
        signal: controller.signal,
        onEvent: events.onEvent,
      }),
      AbortError,
    );
  } finally {
    console.warn = warn;
  }
  assert.deepEqual(events.labels('failed'), []);
});
