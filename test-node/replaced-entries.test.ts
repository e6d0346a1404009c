import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Entry, memoryStore, requires, type Store, task } from 'checkpoint-tool';
import { recorder } from './helpers.js';

/**
 * `inner`, except that the first read of `folder`'s value is preceded by another run replacing
 * that entry with `theirs` (as a process or tab running another version of the task does). With
 * `readEntry: false`, it has no `readEntry`, as a store written for the older interface, and runs
 * read with `readValue` and `readMeta`.
 */
function replacingOnRead(inner: Store, folder: string, theirs: Entry, readEntry: boolean): Store {
  let replaced = false;
  const replace = async (readFolder: string, key: string) => {
    if (readFolder === folder && !replaced) {
      replaced = true;
      await inner.write(folder, key, theirs);
    }
  };
  const { readEntry: _, ...older } = inner;
  return {
    ...older,
    async readValue(readFolder, key) {
      await replace(readFolder, key);
      return inner.readValue(readFolder, key);
    },
    ...(readEntry && {
      async readEntry(readFolder: string, key: string) {
        await replace(readFolder, key);
        return inner.readEntry?.(readFolder, key);
      },
    }),
  };
}

/** The entry stored under `folder` and `key`, as a run of another version of the task would write it. */
async function entryOf(store: Store, folder: string, key: string): Promise<Entry> {
  const [meta, value] = await Promise.all([store.readMeta(folder, key), store.readValue(folder, key)]);
  assert.ok(meta && value);
  return { meta: { ...meta, version: 'another' }, value: [value] };
}

for (const readEntry of [true, false]) {
  const via = readEntry ? 'readEntry' : 'readValue, then readMeta';
  const suffix = readEntry ? '' : '-older';
  test(`${via}: an input cached when planned, replaced by another run before it is read, is computed again, not read as this run's`, async () => {
    const store = memoryStore();
    const mine = task(`replaced-input${suffix}`, () => () => 'mine');
    const theirs = task(`replaced-input-theirs${suffix}`, () => () => 'theirs');
    const use = task(`replaced-input-use${suffix}`, () => requires(mine())((value) => `uses ${value}`));
    await mine().run({ store });
    await theirs().run({ store });
    const replacing = replacingOnRead(store, mine.id, await entryOf(store, theirs.id, theirs().key), readEntry);
    const events = recorder();
    assert.equal(await use().run({ store: replacing, onEvent: events.onEvent }), 'uses mine');
    assert.deepEqual(events.labels('cached'), [`replaced-input${suffix}()`]);
    assert.deepEqual(events.labels('finished'), [`replaced-input${suffix}()`, `replaced-input-use${suffix}()`]);
    assert.equal(await mine().run({ store }), 'mine', 'its own value is stored again');
  });

  test(`${via}: a cached root replaced by another run before its value is read is computed again, not read as this run's`, async () => {
    const store = memoryStore();
    const mine = task(`replaced-root${suffix}`, () => () => 'mine');
    const theirs = task(`replaced-root-theirs${suffix}`, () => () => 'theirs');
    await mine().run({ store });
    await theirs().run({ store });
    const replacing = replacingOnRead(store, mine.id, await entryOf(store, theirs.id, theirs().key), readEntry);
    assert.equal(await mine().run({ store: replacing }), 'mine');
  });

  test(`${via}: an input replaced by another run with an entry fresh for this run is read, not computed`, async () => {
    const store = memoryStore();
    const mine = task(`replaced-fresh${suffix}`, () => () => 'mine');
    const theirs = task(`replaced-fresh-theirs${suffix}`, () => () => 'theirs');
    const use = task(`replaced-fresh-use${suffix}`, () => requires(mine())((value) => `uses ${value}`));
    await mine().run({ store });
    await theirs().run({ store });
    const { meta, value } = await entryOf(store, theirs.id, theirs().key);
    // Of this version, as another run's recomputation after a clear would be; with locks, as tabs have.
    const replacing: Store = {
      ...replacingOnRead(store, mine.id, { meta: { ...meta, version: '' }, value }, readEntry),
      lock: async () => async () => {},
    };
    const events = recorder();
    assert.equal(await use().run({ store: replacing, onEvent: events.onEvent }), 'uses theirs');
    assert.deepEqual(events.labels('finished'), [`replaced-fresh-use${suffix}()`]);
  });
}
