// A task declared again while other, unchanged tasks still use it: a REPL or notebook where `fit`
// is assigned a new declaration and `user`, declared once, calls whatever `fit` is now.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Instance, memoryStore, requires, task } from 'checkpoint-tool';
import { recorder } from './helpers.js';

test('an instance that required a replaced declaration’s instance calls its factory again, and runs the new one', async () => {
  const store = memoryStore();
  const cells: { fit: (x: number) => Instance<number> } = { fit: task('dep-fit', (x: number) => () => x * 2) };
  const user = task('dep-user', (x: number) => requires(cells.fit(x))((v) => v + 0.5));
  const total = task('dep-total', (x: number) => requires(user(x))((v) => v * 10));
  const held = total(1);
  assert.equal(await held.run({ store }), 25);

  // The cell declaring `fit` is edited and run again; `user` and `total` are not.
  cells.fit = task('dep-fit', (x: number) => () => x * 3, { version: '2' });
  assert.equal(await user(2).run({ store }), 6.5, 'never resolved before: the new fit');
  // user(1) is the instance made before, whose factory required the old fit(1): typed again, it
  // gives the same answer as user(2) does, rather than failing at the old fit(1).
  const events = recorder();
  assert.equal(await user(1).run({ store, onEvent: events.onEvent }), 3.5);
  assert.deepEqual(events.labels('finished'), ['dep-fit(1)', 'dep-user(1)'], 'recomputed under fit’s new version');
  // Two levels up, through an instance held from before.
  assert.equal(await held.run({ store }), 35);
  assert.equal(await total(1).run({ store }), 35);
});

test('a factory that still makes the replaced declaration’s instance fails at that instance', async () => {
  const store = memoryStore();
  const first = task('dep-kept', (x: number) => () => x);
  const kept = first(1);
  const user = task('dep-kept-user', (x: number) => requires(kept)((v) => v + x));
  assert.equal(await user(1).run({ store }), 2);
  task('dep-kept', (x: number) => () => -x);
  await assert.rejects(user(1).run({ store }), /^TaskFailedError: dep-kept\(1\) failed: .*was declared again/);
});
