import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { memoryStore, requires, task } from 'checkpoint-tool';
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
