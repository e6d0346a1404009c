import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { fsStore, type Store, TaskFailedError } from 'checkpoint-tool';
import { choose } from './fixtures/choose.js';
import { recorder, temporaryDir } from './helpers.js';
import { bytesOf, entryBytes, entryOf } from './store-checks.js';

/** Wraps a store so that writing (and locking) fails with a system error, as a full or read-only disk does. */
function failingWrites(inner: Store, code: 'ENOSPC' | 'EROFS', when: (key: string) => boolean): Store {
  const fail = (key: string) => {
    if (when(key)) throw Object.assign(new Error(`${code}: simulated, write '${key}'`), { code });
  };
  return {
    ...inner,
    async write(folder, key, entry) {
      fail(key);
      return inner.write(folder, key, entry);
    },
    async lock(folder, key) {
      fail(key);
      return inner.lock!(folder, key);
    },
  };
}

test('a full disk fails the instance that could not be stored, naming it; what was stored stays readable', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  assert.equal(await choose(5, 2).run({ store }), 10);
  const full = failingWrites(store, 'ENOSPC', (key) => key === '[6,3]');
  await assert.rejects(choose(7, 3).run({ store: full }), (error: unknown) => {
    assert.ok(error instanceof TaskFailedError);
    assert.equal(error.message.split(' failed')[0], 'choose(6,3)');
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOSPC');
    return true;
  });
  // Once space is back, only what was not stored is computed.
  const events = recorder();
  assert.equal(await choose(7, 3).run({ store, onEvent: events.onEvent }), 35);
  assert.deepEqual(new Set(events.labels('finished')), new Set(['choose(6,3)', 'choose(7,3)']));
});

test('a read-only cache serves every fresh result, and fails only what would need writing', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  assert.equal(await choose(6, 3).run({ store }), 20);
  const readOnly = failingWrites(store, 'EROFS', () => true);
  assert.equal(await choose(6, 3).run({ store: readOnly }), 20);
  assert.equal(await choose(5, 2).run({ store: readOnly }), 10);
  await assert.rejects(choose(7, 3).run({ store: readOnly }), (error: unknown) => {
    assert.ok(error instanceof TaskFailedError);
    assert.match(error.message, /choose\(\d,\d\) failed: Error: EROFS/);
    return true;
  });
});

test('a write that fails half way (a full disk) leaves no temporary or lock file, and what was stored stays', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  const kept = entryOf('[0]', bytesOf('kept'));
  await store.write('task', '[0]', kept);
  // Every vectored write fails with ENOSPC, as on a full disk: the store's writes go through fs.writev.
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  const writev = fs.writev;
  const full = (on: boolean) => {
    (fs as { writev: unknown }).writev = on
      ? (...args: unknown[]) => {
          const callback = args[args.length - 1] as (error: Error) => void;
          setImmediate(() => callback(Object.assign(new Error('ENOSPC: simulated'), { code: 'ENOSPC' })));
        }
      : writev;
    syncBuiltinESMExports();
  };
  try {
    // Small and large values (a large one is written in two writes at once), with and without a
    // lock taken before the disk filled up.
    for (const [key, size] of [
      ['[1]', 100],
      ['[2]', 3 * 1024 * 1024],
    ] as const) {
      for (const locked of [false, true]) {
        const release = locked ? await store.lock?.('task', key) : undefined;
        full(true);
        await assert.rejects(async () => store.write('task', key, entryOf(key, bytesOf(key, size))), {
          code: 'ENOSPC',
        });
        full(false);
        await release?.();
      }
    }
    // A lock that cannot name its owner is not taken, and leaves no file that names nobody.
    full(true);
    await assert.rejects(async () => store.lock?.('task', '[3]'), { code: 'ENOSPC' });
  } finally {
    full(false);
  }
  const names = await readdir(join(dir, 'checkpoint', 'task'));
  assert.equal(names.length, 1, `only the entry of [0] is left: ${names.join(', ')}`);
  assert.deepEqual(await store.keys('task'), ['[0]']);
  assert.deepEqual(await fsStore({ dir }).readValue('task', '[0]'), entryBytes(kept));
});

test('blocking metadata checks (locks, missing entries) that take long (a network filesystem) make the later ones go through libuv; one alone does not', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  // Checks of locks kept open made slow (5 ms) at will: one slow check, then three in a row.
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  const statSync = fs.statSync;
  let blocking = 0;
  let slow = 0;
  (fs as { statSync: unknown }).statSync = (...args: Parameters<typeof statSync>) => {
    blocking++;
    if (slow > 0) {
      slow--;
      const until = performance.now() + 5;
      while (performance.now() < until);
    }
    return statSync(...args);
  };
  syncBuiltinESMExports();
  const entries = Array.from({ length: 10 }, (_, i) => entryOf(`[${i}]`, bytesOf(`${i}`)));
  const store5 = async (from: number) => {
    for (const entry of entries.slice(from, from + 5)) {
      const release = await store.lock?.('slow', entry.meta.key);
      await store.write('slow', entry.meta.key, entry);
      await release?.();
    }
  };
  try {
    slow = 1;
    await store5(0);
    // Two checks per commit: that the lock is its own before writing into it, and again before renaming it.
    assert.equal(blocking, 10, 'one slow check: every check still blocking');
    // An entry asked for under its lock is looked for with a blocking check first.
    assert.equal(await store.readMeta('slow', '[0]').then((meta) => meta?.key), '[0]');
    assert.equal(await store.readMeta('slow', '[missing]'), undefined);
    assert.equal(blocking, 12, 'an existing and a missing entry: two blocking checks');
    slow = Number.POSITIVE_INFINITY;
    await store5(5);
    assert.equal(blocking, 15, 'three slow checks in a row, then none blocking');
    assert.equal(await store.readMeta('slow', '[missing]'), undefined);
    assert.equal(await store.readMeta('slow', '[9]').then((meta) => meta?.key), '[9]');
    assert.equal(blocking, 15, 'entries then looked for through libuv');
  } finally {
    (fs as { statSync: unknown }).statSync = statSync;
    syncBuiltinESMExports();
  }
  for (const entry of entries) assert.deepEqual(await store.readValue('slow', entry.meta.key), entryBytes(entry));
  assert.deepEqual(await readdir(join(dir, 'checkpoint', 'slow')).then((names) => names.length), 10);
});
