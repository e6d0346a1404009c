import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, memoryStore, requires, type Store, TaskFailedError, task } from 'checkpoint-tool';
import { deferred, recorder } from './helpers.js';

test('a cached value that vanished and fails when recomputed is reported failed', async () => {
  const inner = memoryStore();
  let broken = false;
  const leaf = task('stop-vanish-leaf', () => () => {
    if (broken) throw new RangeError('cannot now');
    return 1;
  });
  const top = task('stop-vanish-top', (n: number) => requires(leaf())((v) => v + n));
  await top(0).run({ store: inner });
  broken = true;
  // The leaf's value is gone (evicted) though its metadata is there.
  const evicting: Store = { ...inner, readValue: async () => undefined };
  const events = recorder();
  await assert.rejects(top(1).run({ store: evicting, onEvent: events.onEvent }), TaskFailedError);
  assert.deepEqual(events.labels('failed'), ['stop-vanish-leaf()', 'stop-vanish-top(1)']);
});

test('a value found stored by another run, then gone before it is read, is computed instead of failing the run', async () => {
  const inner = memoryStore();
  let computed = 0;
  const leaf = task('stop-gone-leaf', () => () => ++computed * 10);
  const top = task('stop-gone-top', (n: number) => requires(leaf())((v) => v + n));
  assert.equal(await top(0).run({ store: inner }), 10);
  let valueReads = 0;
  let injected = false;
  const store: Store = {
    ...inner,
    // The leaf's value cannot be read the first two times: gone, then gone again once "another run" stored it.
    readValue: async (folder, key) =>
      folder === 'stop-gone-leaf' && ++valueReads <= 2 ? undefined : inner.readValue(folder, key),
    async lock(folder, key) {
      if (folder === 'stop-gone-leaf' && !injected) {
        injected = true;
        const meta = await inner.readMeta(folder, key);
        const bytes = (await inner.readValue(folder, key))?.value;
        if (meta && bytes) await inner.write(folder, key, { meta: { ...meta, stamp: 'another-run' }, value: [bytes] });
      }
      return async () => {};
    },
  };
  const warn = console.warn;
  console.warn = () => {};
  try {
    assert.equal(await top(1).run({ store }), 21);
  } finally {
    console.warn = warn;
  }
  assert.equal(valueReads, 2);
  assert.equal(computed, 2);
});

test('a cached root whose value is gone is recomputed before the run settles, and what happens then decides it', async () => {
  const leaf = task('stop-root-leaf', () => () => 1);
  const root = task('stop-root', () => requires(leaf())((x) => x + 1));
  const inner = memoryStore();
  assert.equal(await root().run({ store: inner }), 2);
  // Metadata kept, every value gone.
  const store: Store = { ...inner, readValue: async () => undefined };
  const warn = console.warn;
  console.warn = () => {};
  try {
    for (const keepGoing of [false, true]) {
      await assert.rejects(
        root().run({
          store,
          keepGoing,
          onEvent: (event) => {
            if (event.type === 'started' && event.instance.task.id === 'stop-root-leaf')
              throw new Error('listener broke');
          },
        }),
        /^CheckpointError: onEvent threw on the started event of stop-root-leaf\(\)/,
      );
    }
    // Cancelled while its input is recomputed: the root is not computed.
    let rootRuns = 0;
    const counted = task('stop-root-counted', () =>
      requires(leaf())((x) => {
        rootRuns++;
        return x;
      }),
    );
    await counted().run({ store: inner });
    rootRuns = 0;
    const controller = new AbortController();
    await assert.rejects(
      counted().run({
        store,
        signal: controller.signal,
        onEvent: (event) => {
          if (event.type === 'started') controller.abort();
        },
      }),
      AbortError,
    );
    assert.equal(rootRuns, 0);
  } finally {
    console.warn = warn;
  }
});

test('a run whose instance fails on one vanished input settles only once the other input being recomputed is stored', async () => {
  const inner = memoryStore();
  let phase: 'first' | 'second' = 'first';
  const { promise: bad, resolve: failedLeaf } = deferred();
  let slowDone = false;
  const slow = task('stop-settle-slow', () => async () => {
    if (phase === 'second') {
      await bad;
      await new Promise((resolve) => setImmediate(resolve));
      slowDone = true;
    }
    return 1;
  });
  const failing = task('stop-settle-bad', () => () => {
    if (phase === 'second') {
      failedLeaf();
      throw new RangeError('cannot now');
    }
    return 2;
  });
  const top = task('stop-settle-top', (n: number) => requires(slow(), failing())((a, b) => a + b + n));
  await top(0).run({ store: inner });
  const before = (await inner.readMeta('stop-settle-slow', '[]'))?.stamp;
  phase = 'second';
  // Both inputs' values are gone (evicted), though their metadata is there.
  const evicting: Store = { ...inner, readValue: async () => undefined };
  await assert.rejects(top(1).run({ store: evicting }), TaskFailedError);
  assert.equal(slowDone, true, 'the recomputation of stop-settle-slow() ended before the run settled');
  const after = (await inner.readMeta('stop-settle-slow', '[]'))?.stamp;
  assert.ok(before !== undefined && after !== undefined && after !== before, 'its new value was stored');
});

test('without keepGoing, no new work starts once a recomputed input fails, though its sibling is still being recomputed', async () => {
  const inner = memoryStore();
  let phase: 'first' | 'second' = 'first';
  const { promise: gate, resolve: release } = deferred();
  const { promise: failedBad, resolve: failedOnce } = deferred();
  // Its recomputation waits until the run has had the chance to start other work.
  const slow = task('stop-newwork-slow', () => async () => {
    if (phase === 'second') await gate;
    return 1;
  });
  const bad = task('stop-newwork-bad', () => () => {
    if (phase === 'second') throw new RangeError('cannot now');
    return 2;
  });
  const pair = task('stop-newwork-pair', (n: number) => requires(slow(), bad())((a, b) => a + b + n));
  // Ends only after the failure is reported; what depends on it is new work.
  const trigger = task('stop-newwork-trigger', (n: number) => async () => {
    await failedBad;
    return n;
  });
  const after = task('stop-newwork-after', (n: number) => requires(trigger(n))((v) => v));
  const top = task('stop-newwork-top', (n: number) => requires(pair(n), after(n))((a, b) => a + b));
  await pair(0).run({ store: inner });
  phase = 'second';
  const evicting: Store = { ...inner, readValue: async () => undefined };
  const events = recorder();
  const onEvent: typeof events.onEvent = (event) => {
    events.onEvent(event);
    if (event.type === 'failed' && event.instance.label === 'stop-newwork-bad()') failedOnce();
    if (event.type === 'finished' && event.instance.label === 'stop-newwork-trigger(1)') release();
  };
  try {
    await assert.rejects(top(1).run({ store: evicting, onEvent }), TaskFailedError);
  } finally {
    release();
  }
  assert.ok(!events.labels('started').includes('stop-newwork-after(1)'), 'nothing new started after the failure');
  assert.ok(events.labels('skipped').includes('stop-newwork-after(1)'));
});
