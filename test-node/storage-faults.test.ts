import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { createRequire, syncBuiltinESMExports } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { fsStore, type Store, TaskFailedError, task } from 'checkpoint-tool';
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
    async lock(folder, key, version) {
      fail(key);
      return inner.lock!(folder, key, version);
    },
  };
}

test('a full disk fails the instance that could not be stored, naming it; what was stored stays readable', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  assert.equal(await choose(5, 2).run({ store }), 10);
  const full = failingWrites(store, 'ENOSPC', (key) => key === '[6,3]');
  // Going on, so that all the rest is computed, whatever the order of computing.
  await assert.rejects(choose(7, 3).run({ store: full, keepGoing: true }), (error: unknown) => {
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
  // Every vectored write fails with ENOSPC, as on a full disk: the store's writes go through
  // fs.writev, or fs.writevSync where blocking is cheap.
  const fs = createRequire(import.meta.url)('node:fs') as typeof import('node:fs');
  const { writev, writevSync } = fs;
  const enospc = () => Object.assign(new Error('ENOSPC: simulated'), { code: 'ENOSPC' });
  const full = (on: boolean) => {
    (fs as { writev: unknown }).writev = on
      ? (...args: unknown[]) => {
          const callback = args[args.length - 1] as (error: Error) => void;
          setImmediate(() => callback(enospc()));
        }
      : writev;
    (fs as { writevSync: unknown }).writevSync = on
      ? () => {
          throw enospc();
        }
      : writevSync;
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
  assert.deepEqual((await fsStore({ dir }).readValue('task', '[0]'))?.value, entryBytes(kept));
});

test('an argument too large for an entry file’s metadata fails its instance saying so, not blaming millions of inputs', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  const length = task('faults-huge-argument', (text: string) => () => text.length);
  const error = await length('x'.repeat(65 * 1024 * 1024))
    .run({ store })
    .catch((e) => e);
  assert.ok(error instanceof TaskFailedError, String(error));
  assert.match(
    error.message,
    /^faults-huge-argument\("x+\.\.\.\) failed: CheckpointError: the arguments \["x+\.\.\. take 68157444 bytes as JSON, more than the 67108864 an entry file's metadata holds: pass a value this large as another instance's value \(or a file's path\), not as an argument$/,
  );
  assert.deepEqual(await readdir(join(dir, 'checkpoint', 'faults-huge-argument')).catch(() => []), []);
});

test('an argument of text in three-byte characters too large for the metadata is blamed as such, in bytes', async () => {
  const dir = await temporaryDir();
  // 22.5 million characters, 67.5 MB in UTF-8: fewer characters than the metadata holds bytes.
  const length = task('faults-huge-text', (text: string) => () => text.length);
  const error = await length('字'.repeat(22_500_000))
    .run({ store: fsStore({ dir }) })
    .catch((e) => e);
  assert.ok(error instanceof TaskFailedError, String(error));
  assert.match(
    error.message,
    / failed: CheckpointError: the arguments \["字+\.\.\. take 67500004 bytes as JSON, more than the 67108864 /,
  );
});
