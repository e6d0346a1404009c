import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { type Compute, memoryStore, requires, task } from 'checkpoint-tool';
import { recorder } from './helpers.js';

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
