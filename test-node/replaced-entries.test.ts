import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Entry, memoryStore, requires, type Store, task } from 'checkpoint-tool';
import { recorder } from './helpers.js';

/**
 * `inner`, except that the first read of `folder`'s value is preceded by another run replacing
 * that entry with `theirs` (as a process or tab running another version of the task does).
 */
function replacingOnRead(inner: Store, folder: string, theirs: Entry): Store {
  let replaced = false;
  return {
    ...inner,
    async readValue(readFolder, key) {
      if (readFolder === folder && !replaced) {
        replaced = true;
        await inner.write(folder, key, theirs);
      }
      return inner.readValue(readFolder, key);
    },
  };
}

/** The entry stored under `folder` and `key`, as a run of another version of the task would write it. */
async function entryOf(store: Store, folder: string, key: string): Promise<Entry> {
  const read = await store.readValue(folder, key);
  assert.ok(read);
  return { meta: { ...read.meta, version: 'another' }, value: [read.value] };
}

test("an input cached when planned, replaced by another run before it is read, is computed again, not read as this run's", async () => {
  const store = memoryStore();
  const mine = task('replaced-input', () => () => 'mine');
  const theirs = task('replaced-input-theirs', () => () => 'theirs');
  const use = task('replaced-input-use', () => requires(mine())((value) => `uses ${value}`));
  await mine().run({ store });
  await theirs().run({ store });
  const replacing = replacingOnRead(store, mine.id, await entryOf(store, theirs.id, theirs().key));
  const events = recorder();
  assert.equal(await use().run({ store: replacing, onEvent: events.onEvent }), 'uses mine');
  assert.deepEqual(events.labels('cached'), ['replaced-input()']);
  assert.deepEqual(events.labels('finished'), ['replaced-input()', 'replaced-input-use()']);
  assert.equal(await mine().run({ store }), 'mine', 'its own value is stored again');
});

test("a cached root replaced by another run before its value is read is computed again, not read as this run's", async () => {
  const store = memoryStore();
  const mine = task('replaced-root', () => () => 'mine');
  const theirs = task('replaced-root-theirs', () => () => 'theirs');
  await mine().run({ store });
  await theirs().run({ store });
  const replacing = replacingOnRead(store, mine.id, await entryOf(store, theirs.id, theirs().key));
  assert.equal(await mine().run({ store: replacing }), 'mine');
});

test('an input replaced by another run with an entry fresh for this run is read, not computed', async () => {
  const store = memoryStore();
  const mine = task('replaced-fresh', () => () => 'mine');
  const theirs = task('replaced-fresh-theirs', () => () => 'theirs');
  const use = task('replaced-fresh-use', () => requires(mine())((value) => `uses ${value}`));
  await mine().run({ store });
  await theirs().run({ store });
  const { meta, value } = await entryOf(store, theirs.id, theirs().key);
  // Of this version, as another run's recomputation after a clear would be; with locks, as tabs have.
  const replacing: Store = {
    ...replacingOnRead(store, mine.id, { meta: { ...meta, version: '' }, value }),
    lock: async () => async () => {},
  };
  const events = recorder();
  assert.equal(await use().run({ store: replacing, onEvent: events.onEvent }), 'uses theirs');
  assert.deepEqual(events.labels('finished'), ['replaced-fresh-use()']);
});

test('a store whose readValue gives bytes alone (the interface before it gave the metadata too) is told so, and its value recomputed', async (t) => {
  const inner = memoryStore();
  const old = task('bytes-alone', () => () => 'computed');
  await old().run({ store: inner });
  const store = {
    ...inner,
    readValue: async (folder: string, key: string) => (await inner.readValue(folder, key))?.value,
  } as unknown as Store;
  const warn = t.mock.method(console, 'warn', () => {});
  const events = recorder();
  assert.equal(await old().run({ store, onEvent: events.onEvent }), 'computed');
  assert.deepEqual(events.labels('finished'), ['bytes-alone()']);
  assert.equal(warn.mock.callCount(), 1);
  assert.match(String(warn.mock.calls[0]?.arguments[0]), /readValue gave bytes alone; it gives \{ meta, value \}/);
});
