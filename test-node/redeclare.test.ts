// A task declared again in a running session (a notebook cell run again, a module hot-reloaded, a
// REPL): the later declaration holds the task's folder, and the earlier one no longer runs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Instance,
  memoryStore,
  nodePool,
  requires,
  type Store,
  TaskDefinitionError,
  TaskFailedError,
  task,
} from 'checkpoint-tool';
// @ts-expect-error: a plain JavaScript module, without types
import { triple } from './fixtures/pool-plain.js';
import { recorder } from './helpers.js';

const REPLACED =
  /Task `decl-fit` was declared again with a different factory or options, which replaced this declaration/;

/** Asserts that running `instance` fails before anything runs, naming `failed` and the replacement. */
async function refusedRun(instance: Instance<unknown>, store: Store, failed: string, message: RegExp): Promise<void> {
  const events = recorder();
  await assert.rejects(instance.run({ store, onEvent: events.onEvent }), (error: unknown) => {
    assert.ok(error instanceof TaskFailedError, String(error));
    assert.match(error.message, new RegExp(`^${failed.replace(/[()]/g, '\\$&')} failed`));
    assert.ok(error.cause instanceof TaskDefinitionError);
    assert.match(error.cause.message, message);
    return true;
  });
  assert.deepEqual(events.labels('started'), [], 'nothing ran');
}

test('a task declared again differently replaces the earlier declaration, which then refuses to make or run instances', async () => {
  const store = memoryStore();
  const first = task('decl-fit', (x: number) => () => x);
  const made = first(2);
  const user = task('decl-user', (x: number) => requires(first(x))((v) => v + 0.5));
  assert.equal(await user(1).run({ store }), 1.5);

  // An edited cell: no error where it is declared.
  const second = task('decl-fit', (x: number) => () => x * 10);
  // Results are found by id and arguments: decl-fit(1) is reused, as the `version` option documents.
  const events = recorder();
  assert.equal(await second(1).run({ store, onEvent: events.onEvent }), 1);
  assert.deepEqual(events.labels('cached'), ['decl-fit(1)']);
  assert.equal(await second(3).run({ store }), 30);

  assert.throws(() => first(5), { name: 'TaskDefinitionError', message: REPLACED });
  // What was made from the earlier declaration, directly or as a dependency, fails before running.
  await refusedRun(made, store, 'decl-fit(2)', REPLACED);
  await refusedRun(user(1), store, 'decl-fit(1)', REPLACED);
  // Nothing stored was lost; the new declaration keeps working.
  assert.equal((await store.keys('decl-fit')).length, 2);
  assert.equal(await second(2).run({ store }), 20);
});

test('a new version declared in a running session recomputes its results, and the earlier declaration stops', async () => {
  const store = memoryStore();
  const factory = (x: number) => () => x + 1;
  const first = task('decl-versioned', factory, { version: '1' });
  assert.equal(await first(1).run({ store }), 2);
  const second = task('decl-versioned', factory, { version: '2' });
  const events = recorder();
  assert.equal(await second(1).run({ store, onEvent: events.onEvent }), 2);
  assert.deepEqual(events.labels('finished'), ['decl-versioned(1)'], 'recomputed under the new version');
  assert.throws(() => first(1), /Task `decl-versioned` was declared again/);
});

test('the same definition declared again is the same task: both declarations keep working', async () => {
  const store = memoryStore();
  const factory = (x: number) => () => x;
  const first = task('decl-same', factory, { version: '1', compress: true });
  // The same options written otherwise are the same definition.
  const second = task('decl-same', factory, { compress: 6, version: '1' });
  assert.equal(await first(1).run({ store }), 1);
  assert.equal(await second(2).run({ store }), 2);
  assert.equal(await first(3).run({ store }), 3);
  // A third, different declaration replaces both.
  task('decl-same', factory, { version: '2' });
  assert.throws(() => first(4), /Task `decl-same` was declared again/);
  assert.throws(() => second(4), /Task `decl-same` was declared again/);
  // The same name in another namespace is another task, and replaces nothing.
  const other = task('decl-same', (x: number) => () => -x, { namespace: 'other' });
  assert.equal(await other(1).run({ store }), -1);
});

test('an id that differs from an earlier one only in case replaces it: macOS and Windows would give both one folder', async () => {
  const upper = task('decl-Case', (x: number) => () => x);
  const made = upper(1);
  const lower = task('decl-case', (x: number) => () => x * 2);
  const message =
    /Task `decl-Case` was replaced by task `decl-case`, declared later with an id that differs only in case/;
  assert.throws(() => upper(2), { name: 'TaskDefinitionError', message });
  await refusedRun(made, memoryStore(), 'decl-Case(1)', message);
  assert.equal(await lower(2).run({ store: memoryStore() }), 4);
  // The namespace is part of the folder's name too.
  const namespaced = task('Case', (x: number) => () => x, { namespace: 'decl' });
  task('case', (x: number) => () => x, { namespace: 'DECL' });
  assert.throws(() => namespaced(1), /Task `decl\.Case` was replaced by task `DECL\.case`/);
  // The message names what to do about two different tasks.
  assert.throws(() => upper(2), /give each a name or namespace of its own/);
});

test('a worker whose declaration has another version than the run’s refuses the job, and nothing is stored', async () => {
  // The worker loads the fixture's `plain.triple` (no version); this thread declares it again.
  const pool = nodePool(new URL('./fixtures/pool-plain.js', import.meta.url), { size: 1 });
  const store = memoryStore();
  try {
    assert.equal(await (triple(2) as Instance<number>).run({ executor: pool, store }), 6);
    const bumped = task('triple', (n: number) => () => 3 * n, { namespace: 'plain', version: '2' });
    await assert.rejects(bumped(3).run({ executor: pool, store }), (error: unknown) => {
      assert.ok(error instanceof TaskFailedError, String(error));
      assert.ok(error.cause instanceof TaskDefinitionError, String(error.cause));
      assert.match(
        error.cause.message,
        /Task `plain\.triple` is at version "" here, but the run planned it at version "2": .* close the pool and start a new one/,
      );
      return true;
    });
    assert.equal((await store.keys('plain.triple')).length, 1, 'only triple(2) is stored');
    // In process, the new declaration runs.
    assert.equal(await bumped(3).run({ store }), 9);
  } finally {
    await pool.close();
  }
});
