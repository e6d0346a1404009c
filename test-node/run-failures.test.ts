import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import {
  AbortError,
  type Compute,
  CycleError,
  type Executor,
  inProcess,
  memoryStore,
  type RunEvent,
  RunFailedError,
  requires,
  type Store,
  TaskFailedError,
  task,
} from 'checkpoint-tool';
import { deferred, recorder } from './helpers.js';

describe('failures', () => {
  test('a failure rejects naming the instance; finished work stays cached; a rerun computes only what is missing', async () => {
    const store = memoryStore();
    let broken = true;
    let slowRuns = 0;
    const { promise: released, resolve: release } = deferred();
    const slow = task('fail-slow', () => async () => {
      slowRuns++;
      await released;
      return 'slow';
    });
    const flaky = task('fail-flaky', (x: number) => () => {
      if (broken) {
        release();
        throw new TypeError(`bad ${x}`);
      }
      return x;
    });
    const after = task('fail-after', () => () => 'after');
    // Dispatched in declaration order: `after` starts before `flaky` fails and stops the run.
    const root = task('fail-root', () => requires(slow(), after(), flaky(1))((a, c, b) => `${a}-${b}-${c}`));
    const events = recorder();
    await assert.rejects(root().run({ store, onEvent: events.onEvent }), (error: unknown) => {
      assert.ok(error instanceof TaskFailedError);
      assert.equal(error.task, 'fail-flaky');
      assert.deepEqual(error.args, [1]);
      assert.match(error.message, /fail-flaky\(1\) failed: TypeError: bad 1/);
      assert.ok(error.cause instanceof TypeError);
      return true;
    });
    // The slow instance was already running: it finished and was stored.
    assert.ok(events.labels('finished').includes('fail-slow()'));
    assert.deepEqual(events.labels('skipped'), ['fail-root()']);
    broken = false;
    events.clear();
    assert.equal(await root().run({ store, onEvent: events.onEvent }), 'slow-1-after');
    assert.equal(slowRuns, 1);
    assert.deepEqual(new Set(events.labels('finished')), new Set(['fail-flaky(1)', 'fail-root()']));
  });

  test('by default no new work starts after a failure', async () => {
    const store = memoryStore();
    const ran: number[] = [];
    const step = task('stop-step', (i: number) => () => {
      ran.push(i);
      if (i === 2) throw new Error('step 2');
      return i;
    });
    const steps = task('stop-steps', () => requires([1, 2, 3, 4].map((i) => step(i)))((v) => v));
    const serial: Executor = { ...inProcess(), concurrency: 1 };
    await assert.rejects(steps().run({ store, executor: serial }), /stop-step\(2\) failed/);
    assert.deepEqual(ran, [1, 2]);
  });

  test('keepGoing computes everything not downstream of the failures and lists each failure', async () => {
    const store = memoryStore();
    const item = task('keep-item', (i: number) => () => {
      if (i % 3 === 0) throw new RangeError(`no ${i}`);
      return i;
    });
    const pair = task('keep-pair', (i: number) => requires(item(i), item(i + 1))((a, b) => a + b));
    const all = task('keep-all', () => requires([1, 2, 5].map((i) => pair(i)))((v) => v));
    const events = recorder();
    await assert.rejects(all().run({ store, keepGoing: true, onEvent: events.onEvent }), (error: unknown) => {
      assert.ok(error instanceof RunFailedError);
      assert.deepEqual(error.failures.map((f) => f.args[0]).sort(), [3, 6]);
      assert.match(error.message, /2 instances failed/);
      return true;
    });
    assert.ok(events.labels('finished').includes('keep-pair(1)'), 'pair(1) does not depend on a failure');
    assert.deepEqual(new Set(events.labels('skipped')), new Set(['keep-pair(2)', 'keep-pair(5)', 'keep-all()']));
  });

  test('keepGoing: a node failing while its unreadable inputs are recomputed and written still lets the rest run', async () => {
    // D needs 65 cached inputs whose values are unreadable and one whose recomputation throws: the
    // 65 recomputed values are still being written when that one fails. D fails once they are
    // stored, and N, ready and of D's task (one at a time), must still run.
    let recomputing = false;
    const leaf = task('orphan-leaf', (i: number) => () => i);
    const bad = task('orphan-bad', () => () => {
      if (recomputing) throw new Error('bad recompute');
      return 0;
    });
    const node = task(
      'orphan-node',
      (which: string): Compute<number | string> =>
        which === 'D'
          ? requires([...Array.from({ length: 65 }, (_, i) => leaf(i)), bad()])((values) => values.length)
          : () => 'N',
      { maxConcurrency: 1 },
    );
    const root = task('orphan-root', () => requires(node('D'), node('N'))((d, n) => [d, n]));
    const inner = memoryStore();
    await Promise.all([...Array.from({ length: 65 }, (_, i) => leaf(i)), bad()].map((i) => i.run({ store: inner })));
    recomputing = true;
    const { promise: failure, resolve: badFailed } = deferred();
    let written = 0;
    const store: Store = {
      ...inner,
      readValue: async (folder, key) => (folder.startsWith('orphan-node') ? inner.readValue(folder, key) : undefined),
      // The recomputed leaves' writes wait until the bad recomputation has failed.
      write: (folder, key, entry) =>
        folder === 'orphan-leaf'
          ? failure.then(() => {
              written++;
              return inner.write(folder, key, entry);
            })
          : inner.write(folder, key, entry),
    };
    const warn = console.warn;
    console.warn = () => {};
    const events = recorder();
    const onEvent = (event: RunEvent) => {
      events.onEvent(event);
      if (event.type === 'failed' && event.instance.label === 'orphan-bad()') badFailed();
    };
    try {
      await assert.rejects(root().run({ store, keepGoing: true, onEvent }), TaskFailedError);
    } finally {
      console.warn = warn;
    }
    assert.equal(written, 65);
    // The recomputation that threw is reported too.
    assert.deepEqual(events.labels('failed'), ['orphan-bad()', 'orphan-node("D")']);
    // The 65 recomputed leaves finished before the run settled.
    const finished = events.labels('finished');
    assert.deepEqual(
      finished.filter((label) => !label.startsWith('orphan-leaf(')),
      ['orphan-node("N")'],
    );
    assert.equal(new Set(finished).size, 66);
  });

  test('a factory that throws fails the run naming the instance, before anything runs', async () => {
    const { choose } = await import('./fixtures/choose.js');
    const wrong = task('wrong-choose', () => requires(choose(2, 5))((v) => v));
    await assert.rejects(wrong().run({ store: memoryStore() }), (error: unknown) => {
      assert.ok(error instanceof TaskFailedError);
      assert.match(error.message, /^choose\(2,5\) failed: RangeError: choose\(2, 5\)/);
      return true;
    });
  });

  test('a factory that throws fails its instance: every instance is reported, and keepGoing computes the rest', async () => {
    let broken = true;
    const part = task('broken-part', (x: number) => () => x);
    const shaky = task('broken-shaky', (x: number) => {
      if (broken) throw new RangeError(`no shaky(${x})`);
      return requires(part(x))((v) => -v);
    });
    const whole = task('broken-whole', () => requires(part(1), shaky(2), part(3))((a, b, c) => a + b + c));
    const store = memoryStore();
    const events = recorder();
    await assert.rejects(
      whole().run({ store, onEvent: events.onEvent }),
      /^TaskFailedError: broken-shaky\(2\) failed: RangeError: no shaky\(2\)/,
    );
    assert.deepEqual(events.labels('planned').sort(), [
      'broken-part(1)',
      'broken-part(3)',
      'broken-shaky(2)',
      'broken-whole()',
    ]);
    assert.deepEqual(events.labels('failed'), ['broken-shaky(2)']);
    assert.deepEqual(events.labels('started'), [], 'nothing starts after a failure, without keepGoing');
    assert.deepEqual(events.labels('skipped').sort(), ['broken-part(1)', 'broken-part(3)', 'broken-whole()']);
    events.clear();
    await assert.rejects(whole().run({ store, keepGoing: true, onEvent: events.onEvent }), TaskFailedError);
    assert.deepEqual(events.labels('finished').sort(), ['broken-part(1)', 'broken-part(3)']);
    assert.deepEqual(events.labels('skipped'), ['broken-whole()']);
    // Fixed, it is computed with its own dependencies, and what was computed meanwhile is reused.
    broken = false;
    events.clear();
    assert.equal(await whole().run({ store, onEvent: events.onEvent }), 2);
    assert.deepEqual(events.labels('finished').sort(), ['broken-part(2)', 'broken-shaky(2)', 'broken-whole()']);
    assert.deepEqual(events.labels('cached').sort(), ['broken-part(1)', 'broken-part(3)']);
  });

  test('an instance whose factory throws is never reused from the cache: its inputs are unknown', async () => {
    let broken = false;
    // A factory is called once per instance; declared again (a notebook cell run again), the task
    // has new instances.
    const declare = () =>
      task('broken-cached', () => {
        if (broken) throw new Error('factory broke');
        return () => 7;
      });
    const user = task('broken-cached-user', (n: number) => requires(declare()())((v) => v + n));
    const store = memoryStore();
    assert.equal(await user(1).run({ store }), 8);
    broken = true;
    const events = recorder();
    await assert.rejects(
      user(2).run({ store, keepGoing: true, onEvent: events.onEvent }),
      /broken-cached\(\) failed: Error: factory broke/,
    );
    assert.deepEqual(events.labels('skipped'), ['broken-cached-user(2)'], 'not computed from the cached value');
  });

  test('a cycle is an error naming the cycle', async () => {
    const ring: (i: number) => unknown = task(
      'cycle-ring',
      (i: number): Compute<number> => requires(ring((i + 1) % 3) as never)((v: number) => v),
    );
    await assert.rejects(
      (ring(0) as { run: (o: object) => Promise<unknown> }).run({ store: memoryStore() }),
      (error: unknown) => {
        assert.ok(error instanceof CycleError);
        assert.equal(error.cycle.length, 4);
        assert.equal(error.cycle[0], error.cycle[3]);
        assert.deepEqual(new Set(error.cycle), new Set(['cycle-ring(0)', 'cycle-ring(1)', 'cycle-ring(2)']));
        return true;
      },
    );
    const self = task('cycle-self', (): Compute<number> => requires(self())((v) => v));
    await assert.rejects(self().run({ store: memoryStore() }), /cycle: cycle-self\(\) -> cycle-self\(\)/);
  });

  test('an aborted run starts nothing new and rejects with AbortError', async () => {
    const controller = new AbortController();
    const ran: number[] = [];
    const step = task('abort-step', (i: number) => () => {
      ran.push(i);
      if (i === 1) controller.abort();
      return i;
    });
    const steps = task('abort-steps', () => requires([1, 2, 3].map((i) => step(i)))((v) => v));
    const serial: Executor = { ...inProcess(), concurrency: 1 };
    const store = memoryStore();
    await assert.rejects(steps().run({ store, executor: serial, signal: controller.signal }), AbortError);
    assert.deepEqual(ran, [1]);
    assert.deepEqual(await step(1).run({ store, executor: serial }), 1, 'the finished instance was stored');
  });

  test('a signal shared by many runs keeps no listener of finished runs', async () => {
    const controller = new AbortController();
    const leaf = task('signal-leaf', (i: number) => () => i);
    const store = memoryStore();
    for (let i = 0; i < 3; i++) assert.equal(await leaf(i).run({ store, signal: controller.signal }), i);
    assert.equal(getEventListeners(controller.signal, 'abort').length, 0);
  });
});
