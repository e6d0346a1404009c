import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { getEventListeners } from 'node:events';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
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
import { recorder, temporaryDir } from './helpers.js';

const execFileAsync = promisify(execFile);

describe('invalidation: a recomputed result makes exactly its downstream stale', () => {
  const leaf = task('inv-leaf', (x: number) => () => x);
  const mid = task('inv-mid', (x: number) => requires(leaf(x))((v) => v * 10));
  const top = task('inv-top', (xs: number[]) => requires(xs.map((x) => mid(x)))((vs) => vs.reduce((a, b) => a + b, 0)));

  test('chain: clearing the middle recomputes it and what is above, not what is below', async () => {
    const store = memoryStore();
    const events = recorder();
    assert.equal(await top([1]).run({ store, onEvent: events.onEvent }), 10);
    assert.deepEqual(events.labels('finished'), ['inv-leaf(1)', 'inv-mid(1)', 'inv-top([1])']);
    await mid(1).clear({ store });
    events.clear();
    await top([1]).run({ store, onEvent: events.onEvent });
    assert.deepEqual(events.labels('finished'), ['inv-mid(1)', 'inv-top([1])']);
    assert.deepEqual(events.labels('cached'), ['inv-leaf(1)']);
  });

  test('diamond: clearing the shared bottom recomputes both sides and the top once each', async () => {
    const store = memoryStore();
    const left = task('inv-left', (x: number) => requires(leaf(x))((v) => v + 1));
    const right = task('inv-right', (x: number) => requires(leaf(x))((v) => v + 2));
    const diamond = task('inv-diamond', (x: number) => requires(left(x), right(x))((a, b) => a * b));
    const events = recorder();
    assert.equal(await diamond(2).run({ store, onEvent: events.onEvent }), 12);
    assert.equal(events.labels('finished').length, 4);
    await leaf(2).clear({ store });
    events.clear();
    assert.equal(await diamond(2).run({ store, onEvent: events.onEvent }), 12);
    assert.deepEqual(
      new Set(events.labels('finished')),
      new Set(['inv-leaf(2)', 'inv-left(2)', 'inv-right(2)', 'inv-diamond(2)']),
    );
    assert.equal(events.labels('finished').length, 4);
    // Clearing one side leaves the other side and the bottom cached.
    await right(2).clear({ store });
    events.clear();
    await diamond(2).run({ store, onEvent: events.onEvent });
    assert.deepEqual(events.labels('finished'), ['inv-right(2)', 'inv-diamond(2)']);
    assert.deepEqual(new Set(events.labels('cached')), new Set(['inv-leaf(2)', 'inv-left(2)']));
  });

  test('wide: clearing one of many leaves recomputes only it, its parent and the top', async () => {
    const store = memoryStore();
    const xs = Array.from({ length: 200 }, (_, i) => i);
    const events = recorder();
    assert.equal(await top(xs).run({ store, onEvent: events.onEvent }), 199_000);
    assert.equal(events.labels('finished').length, 401);
    await leaf(77).clear({ store });
    events.clear();
    await top(xs).run({ store, onEvent: events.onEvent });
    assert.deepEqual(events.labels('finished'), ['inv-leaf(77)', 'inv-mid(77)', top(xs).label]);
    // A label shows at most 200 characters of the arguments.
    assert.equal(top(xs).label, `inv-top(${JSON.stringify(xs).slice(0, 200)}...)`);
    assert.equal(events.labels('cached').length, 398);
  });

  test('a recomputation whose value did not change still makes downstream stale (stamps, not values)', async () => {
    const store = memoryStore();
    const events = recorder();
    await top([5]).run({ store });
    await leaf(5).clear({ store });
    await top([5]).run({ store, onEvent: events.onEvent });
    assert.deepEqual(events.labels('finished'), ['inv-leaf(5)', 'inv-mid(5)', 'inv-top([5])']);
  });

  test('changing a task version recomputes that task and its downstream only (across processes)', async () => {
    const dir = await temporaryDir();
    const script = new URL('./fixtures/versioned-run.ts', import.meta.url).pathname;
    const runWith = async (version: string) => {
      const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script], {
        env: { ...process.env, CP_CACHE_DIR: dir, TASK_VERSION: version },
      });
      return JSON.parse(stdout) as { value: number; finished: string[] };
    };
    assert.equal((await runWith('1')).finished.length, 5);
    assert.deepEqual((await runWith('1')).finished, []);
    const bumped = await runWith('2');
    assert.equal(bumped.value, 4);
    assert.deepEqual(bumped.finished, ['ver-middle()', 'ver-user()', 'ver-root()']);
  });
});

describe('failures', () => {
  test('a failure rejects naming the instance; finished work stays cached; a rerun computes only what is missing', async () => {
    const store = memoryStore();
    let broken = true;
    let slowRuns = 0;
    let release!: () => void;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
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
    let badFailed: () => void = () => {};
    const failure = new Promise<void>((resolve) => {
      badFailed = resolve;
    });
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

describe('parallelism', () => {
  test('maxConcurrency caps the instances of a task running at once, and the cap is reached', async () => {
    let running = 0;
    let peak = 0;
    const work = task(
      'par-capped',
      (i: number) => async () => {
        running++;
        peak = Math.max(peak, running);
        for (let tick = 0; tick < 5; tick++) await new Promise((resolve) => setImmediate(resolve));
        running--;
        return i;
      },
      { maxConcurrency: 3 },
    );
    const all = task('par-all', () => requires(Array.from({ length: 20 }, (_, i) => work(i)))((v) => v.length));
    assert.equal(await all().run({ store: memoryStore() }), 20);
    assert.equal(peak, 3);
  });

  test('independent instances run concurrently, and an executor is reused across runs untouched', async () => {
    let running = 0;
    let peak = 0;
    const work = task('par-free', (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return i;
    });
    const executor = inProcess();
    const all = task('par-free-all', (n: number) =>
      requires(Array.from({ length: n }, (_, i) => work(i)))((v) => v.length),
    );
    assert.equal(await all(10).run({ store: memoryStore(), executor }), 10);
    assert.equal(peak, 10);
    assert.equal(await all(12).run({ store: memoryStore(), executor }), 12);
  });

  test("at most 64 instances are in the store's hands at once (locks, writes), and the bound is reached", async () => {
    // A store whose locks and writes each take a turn of the event loop, counting the instances
    // between taking their lock and having their result written.
    const inner = memoryStore();
    let held = 0;
    let peak = 0;
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const store: Store = {
      ...inner,
      async lock() {
        await turn();
        held++;
        peak = Math.max(peak, held);
        return async () => {
          held--;
        };
      },
      async write(folder, key, entry) {
        await turn();
        await inner.write(folder, key, entry);
      },
    };
    const leaf = task('gate-leaf', (i: number) => () => i);
    const sum = task('gate-sum', (n: number) =>
      requires(Array.from({ length: n }, (_, i) => leaf(i)))((values) => values.reduce((a, b) => a + b, 0)),
    );
    assert.equal(await sum(1_000).run({ store }), 499_500);
    assert.equal(peak, 64);
    assert.equal(held, 0);
  });

  test('async computations do not count against that bound while they run: 200 run at once on a store with locks', async () => {
    const inner = memoryStore();
    const store: Store = { ...inner, lock: async () => async () => {} };
    // Each computation waits until all 200 are running: a bound on them would never let this end.
    let running = 0;
    let all: () => void = () => {};
    const together = new Promise<void>((resolve) => {
      all = resolve;
    });
    const wait = task('gate-wait', (i: number) => async () => {
      if (++running === 200) all();
      const timeout = new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`only ${running} of 200 running at once`)), 5_000).unref(),
      );
      await Promise.race([together, timeout]);
      return i;
    });
    const sum = task('gate-wait-all', (n: number) =>
      requires(Array.from({ length: n }, (_, i) => wait(i)))((values) => values.length),
    );
    assert.equal(await sum(200).run({ store }), 200);
  });

  test('events come in order for each instance', async () => {
    const events = recorder();
    const a = task('ev-a', () => () => 1);
    const b = task('ev-b', () => requires(a())((x) => x + 1));
    const store = memoryStore();
    await b().run({ store, onEvent: events.onEvent });
    assert.deepEqual(
      events.events.map((e) => `${e.type} ${e.instance.label}`),
      ['planned ev-a()', 'planned ev-b()', 'started ev-a()', 'finished ev-a()', 'started ev-b()', 'finished ev-b()'],
    );
    const started = events.events.find((e) => e.type === 'started');
    assert.equal(started?.type === 'started' && started.worker, 'main');
  });
});

describe('runs started by factories', () => {
  test('a factory that starts a run while its graph is built leaves both graphs whole: each instance once', async () => {
    const store = memoryStore();
    const base = task('nested-base', (i: number) => () => i);
    const side = task('nested-side', (n: number) =>
      requires(Array.from({ length: n }, (_, i) => base(i)))((values) => values.reduce((a, b) => a + b, 0)),
    );
    const started: Promise<number>[] = [];
    // `second` is explored after `first` has numbered base(0..3); its factory runs a graph sharing them.
    const first = task('nested-first', () => requires(base(0), base(1), base(2), base(3))((...v) => v.length));
    const second = task('nested-second', () => {
      started.push(side(4).run({ store }));
      return requires(base(3), base(0))((a, b) => a + b);
    });
    const top = task('nested-top', () => requires(first(), second(), base(2))((a, b, c) => a + b + c));
    const events = recorder();
    assert.equal(await top().run({ store, onEvent: events.onEvent }), 4 + 3 + 2);
    assert.equal(await started[0], 0 + 1 + 2 + 3);
    const planned = events.labels('planned');
    assert.equal(planned.length, new Set(planned).size, `each instance planned once: ${planned}`);
    assert.deepEqual(
      new Set(planned),
      new Set(['nested-top()', 'nested-first()', 'nested-second()', ...[0, 1, 2, 3].map((i) => `nested-base(${i})`)]),
    );
  });
});

test('building a graph adds no visible property to instances, and frozen instances run', async () => {
  const leaf = task('frozen-leaf', (i: number) => () => i);
  const sum = task('frozen-sum', (n: number) => requires(leaf(0), leaf(n))((a, b) => a + b));
  const root = Object.freeze(sum(2));
  Object.freeze(leaf(2));
  assert.equal(await root.run({ store: memoryStore() }), 2);
  assert.deepEqual(Object.keys(leaf(0)), ['task', 'args', 'key']);
  assert.deepEqual(Object.keys(root), ['task', 'args', 'key']);
});

describe('large graphs', () => {
  test('a chain of 100,000 instances runs (no recursion limit)', async () => {
    const link = task(
      'big-chain',
      (i: number): Compute<number> => (i === 0 ? () => 0 : requires(link(i - 1))((v) => v + 1)),
    );
    assert.equal(await link(99_999).run({ store: memoryStore() }), 99_999);
  });

  test('a fan-in of 100,000 leaves runs, and a warm rerun computes nothing', async () => {
    const leaf = task('big-leaf', (i: number) => () => i);
    const sum = task('big-sum', (n: number) =>
      requires(Array.from({ length: n }, (_, i) => leaf(i)))((values) => values.reduce((a, b) => a + b, 0)),
    );
    const store = memoryStore();
    assert.equal(await sum(100_000).run({ store }), 4_999_950_000);
    let finished = 0;
    assert.equal(
      await sum(100_000).run({ store, onEvent: (e) => void (e.type === 'finished' && finished++) }),
      4_999_950_000,
    );
    assert.equal(finished, 0);
  });
});
