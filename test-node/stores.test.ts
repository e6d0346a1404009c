import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdir, readdir, readFile, rm, stat, symlink, truncate, utimes, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { fsStore, memoryStore, type Store, task } from 'checkpoint-tool';
// The browser entry also sets its default store; every test here passes its store explicitly.
import { idbStore } from 'checkpoint-tool/browser';
import { temporaryDir } from './helpers.js';
import { bytesOf, damageIdbMeta, entryBytes, entryOf, oddKeys, testStore } from './store-suite.js';

testStore(
  'memoryStore',
  () => {
    const store = memoryStore();
    return () => store;
  },
  { describe, test },
);

test('memoryStore: small values packed into shared chunks each read back whole, across chunk ends and overwrites', async () => {
  const store = memoryStore();
  // Sizes around the packing limit (1 KiB) and chunk size (16 KiB), in one and two pieces.
  const lengths = [0, 1, 5, 6, 700, 1023, 1024, 1025, 4000, 16 * 1024, 16 * 1024 + 1];
  const written = new Map<string, Uint8Array>();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 400; i++) {
      const key = `[${i}]`;
      const bytes = bytesOf(`${round}:${i}`, lengths[(i + round) % lengths.length]);
      await store.write('packed', key, entryOf(key, bytes));
      written.set(key, bytes);
    }
  }
  for (const [key, bytes] of written) assert.deepEqual(await store.readValue('packed', key), bytes, key);
  // A value read back is a copy: changing it changes neither its entry nor its chunk's neighbours.
  const first = (await store.readValue('packed', '[1]')) as Uint8Array;
  first.fill(0xff);
  assert.deepEqual(await store.readValue('packed', '[1]'), written.get('[1]'));
  assert.deepEqual(await store.readValue('packed', '[2]'), written.get('[2]'));
});

testStore(
  'fsStore',
  async () => {
    const dir = await temporaryDir();
    return () => fsStore({ dir });
  },
  { describe, test },
);

let databases = 0;
testStore(
  'idbStore on fake-indexeddb',
  () => {
    const dbName = `conformance-${databases++}`;
    return Object.assign(() => idbStore({ dbName }), { damageMeta: damageIdbMeta(dbName) });
  },
  { describe, test },
);

/** Every file and folder under `root`, as paths relative to it with `/` separators, sorted. */
async function tree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map((path) => path.split(sep).join('/')).sort();
}

/** The name of the only lock file in `folder`, if there is one. */
async function onlyLock(dir: string, folder: string): Promise<string | undefined> {
  const names = (await readdir(join(dir, 'checkpoint', folder))).filter((name) => name.endsWith('.lock'));
  assert.ok(names.length <= 1, `at most one lock in ${folder}: ${names}`);
  return names[0];
}

/** The path of the only entry file of `folder`. */
async function onlyFile(dir: string, folder: string): Promise<string> {
  const names = await readdir(join(dir, 'checkpoint', folder));
  assert.equal(names.length, 1, `one file in ${folder}: ${names}`);
  return join(dir, 'checkpoint', folder, names[0] as string);
}

describe('fsStore on disk', () => {
  test('odd keys never make a file outside <dir>/checkpoint/<folder>/, nor a subfolder', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    for (const key of oddKeys) await store.write('ns.task', key, entryOf(key, bytesOf(key)));
    const paths = await tree(dir);
    const files = paths.filter((path) => path.startsWith('checkpoint/ns.task/'));
    assert.deepEqual(paths, ['checkpoint', 'checkpoint/ns.task', ...files]);
    assert.equal(files.length, oddKeys.length);
    for (const file of files) {
      assert.match(file, /^checkpoint\/ns\.task\/[0-9a-f]{64}\.entry$/);
      assert.ok((await stat(join(dir, file))).isFile());
    }
  });

  test('folder names that could leave the cache root are refused', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir: join(dir, 'inner') });
    for (const folder of ['..', '.', '../x', 'a/b', 'a\\b', '', '.hidden']) {
      await assert.rejects(
        async () => store.write(folder, '[1]', entryOf('[1]', bytesOf('x'))),
        /fsStore: expected a folder/,
      );
      await assert.rejects(store.keys(folder), /fsStore: expected a folder/);
      await assert.rejects(store.clear(folder), /fsStore: expected a folder/);
    }
    assert.deepEqual(await readdir(dir), []);
  });

  test('writes leave no temporary file, even concurrent writes of one key or a failed write', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.write('task', `[${i % 3}]`, entryOf(`[${i % 3}]`, bytesOf(`${i}`)))),
    );
    assert.deepEqual((await store.keys('task')).sort(), ['[0]', '[1]', '[2]']);
    // A folder in the entry's place makes the rename fail after the temporary file is written.
    const blocked = join(dir, 'checkpoint', 'blocked');
    await store.write('blocked', '[1]', entryOf('[1]', bytesOf('first')));
    const path = await onlyFile(dir, 'blocked');
    await rm(path);
    await mkdir(join(path, 'in-the-way'), { recursive: true });
    await assert.rejects(async () => store.write('blocked', '[1]', entryOf('[1]', bytesOf('second'))));
    const names = (await tree(dir)).filter((name) => name.endsWith('.tmp'));
    assert.deepEqual(names, []);
    assert.deepEqual(await readdir(blocked), [basename(path)]);
  });

  test('values of megabytes, written and read in chunks while their checksums are computed, read back whole; a flipped byte is caught', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    // More than two chunks of 8 MiB read; a value written whole under a lock.
    const big = bytesOf('big', 17 * 1024 * 1024 + 5);
    const other = bytesOf('other', 2 * 1024 * 1024);
    await store.write('plain', '[1]', entryOf('[1]', big));
    const release = await store.lock?.('locked', '[2]');
    assert.ok(release);
    await store.write('locked', '[2]', entryOf('[2]', other));
    await release();
    // Compared as buffers: a failing deepEqual would print a diff of megabytes.
    const same = (read: Uint8Array | undefined, expected: Uint8Array) =>
      read !== undefined && Buffer.from(read.buffer, read.byteOffset, read.length).equals(expected);
    assert.ok(same(await fsStore({ dir }).readValue('plain', '[1]'), big), 'the 17 MiB value reads back whole');
    assert.ok(same(await fsStore({ dir }).readValue('locked', '[2]'), other), 'the 2 MiB value reads back whole');
    assert.equal((await fsStore({ dir }).readMeta('plain', '[1]'))?.size, big.length);
    // One byte flipped in the second chunk read, then in the last: the checksums no longer match.
    const reports: string[] = [];
    const checking = fsStore({ dir, onCorrupt: ({ reason }) => reports.push(reason) });
    for (const [folder, key, offset] of [
      ['plain', '[1]', 10 * 1024 * 1024],
      ['locked', '[2]', -2],
    ] as const) {
      const path = await onlyFile(dir, folder);
      const file = await readFile(path);
      const at = offset < 0 ? file.length + offset : offset;
      file[at] = (file[at] as number) ^ 1;
      await writeFile(path, file);
      assert.equal(await checking.readValue(folder, key), undefined, folder);
    }
    assert.deepEqual(reports, ['value checksum mismatch', 'value checksum mismatch']);
  });

  test('a file of gigabytes in place of an entry is rejected from its header alone, never read whole', async () => {
    const dir = await temporaryDir();
    const reports: string[] = [];
    const store = fsStore({ dir, onCorrupt: ({ reason }) => reports.push(reason) });
    // A header of more than 64 KiB (thousands of input stamps), a value of more than 8 MiB: read
    // back whole, as any entry larger than one read is, once its header is checked.
    const inputs = Array.from({ length: 5_000 }, (_, i) => `stamp-${i}`);
    const big = bytesOf('big', 9 * 1024 * 1024);
    await store.write('sound', '[1]', entryOf('[1]', big, { inputs }));
    const read = await store.readValue('sound', '[1]');
    assert.ok(read && Buffer.from(read.buffer, read.byteOffset, read.length).equals(big), 'the sound entry reads back');
    assert.deepEqual((await store.readMeta('sound', '[1]'))?.inputs, inputs);
    // Sparse files of 6 GiB, more than a Buffer can hold: read whole, they would throw.
    const huge = 6 * 1024 ** 3;
    await store.write('grown', '[1]', entryOf('[1]', bytesOf('small')));
    await truncate(await onlyFile(dir, 'grown'), huge); // an entry with zeros appended
    await store.write('foreign', '[1]', entryOf('[1]', bytesOf('small')));
    await truncate(await onlyFile(dir, 'foreign'), 0);
    await truncate(await onlyFile(dir, 'foreign'), huge); // no header at all
    // An entry whose metadata length says 2 GiB: reading that much would take seconds.
    await store.write('lying', '[1]', entryOf('[1]', bytesOf('small')));
    const lying = await onlyFile(dir, 'lying');
    const file = await readFile(lying);
    file.writeUInt32LE(0x7fff0000, 4);
    await writeFile(lying, file);
    await truncate(lying, huge);
    assert.equal(await store.readValue('grown', '[1]'), undefined);
    assert.equal(await store.readValue('foreign', '[1]'), undefined);
    assert.equal(await store.readValue('lying', '[1]'), undefined);
    assert.equal(reports.length, 3, reports.join('; '));
    assert.match(reports[0] as string, new RegExp(`^${huge} bytes instead of \\d+$`));
    assert.equal(reports[1], 'not an entry file');
    assert.equal(reports[2], `a metadata length of ${0x7fff0000} bytes, more than any entry has`);
    // All are removed as damaged, and the sound entry is untouched.
    for (const folder of ['grown', 'foreign', 'lying']) {
      assert.deepEqual(await readdir(join(dir, 'checkpoint', folder)), [], folder);
    }
    assert.ok(await store.readValue('sound', '[1]'));
  });

  test('a lock this process holds is never taken over by it, however old it looks', async () => {
    // Stores on one folder in one process (runs, say). The holder's lock has a modification time
    // of 20 s ago: its heartbeat could not run (its event loop was blocked).
    const dir = await temporaryDir();
    const first = fsStore({ dir });
    const second = fsStore({ dir });
    const release = await first.lock?.('task', '[1]');
    const lockFile = join(dir, 'checkpoint', 'task', (await onlyLock(dir, 'task')) as string);
    /** Ages the lock, then lets `store` try to take it for 300 ms: long enough to look at it several times (every 2 to 100 ms). */
    const tryAged = async (store: Store) => {
      const past = new Date(Date.now() - 20_000);
      await utimes(lockFile, past, past);
      let taken = false;
      const waiting = store.lock?.('task', '[1]').then((releaseIt) => {
        taken = true;
        return releaseIt;
      });
      await new Promise((resolve) => setTimeout(resolve, 300));
      return { waiting, taken: () => taken };
    };
    const bySecond = await tryAged(second);
    assert.equal(bySecond.taken(), false, 'the second store waits for the first');
    const entry = entryOf('[1]', bytesOf('first'));
    await first.write('task', '[1]', entry);
    await release?.();
    const releaseSecond = await bySecond.waiting;
    assert.equal(bySecond.taken(), true);
    // The first store's release, once more, late: the lock is the second's now, and stays so.
    await release?.();
    const byThird = await tryAged(fsStore({ dir }));
    assert.equal(byThird.taken(), false, 'the third store waits for the second');
    await releaseSecond?.();
    await (await byThird.waiting)?.();
    assert.deepEqual(await second.readValue('task', '[1]'), entryBytes(entry));
    assert.deepEqual(await readdir(join(dir, 'checkpoint', 'task')).then((names) => names.length), 1);
  });

  test('a lock this thread holds under another spelling of its path (a symbolic link) is not taken over', async () => {
    const dir = await temporaryDir();
    const alias = `${dir}-alias`;
    await symlink(dir, alias);
    try {
      const store = fsStore({ dir });
      const release = await store.lock?.('task', '[1]');
      let taken = false;
      const waiting = fsStore({ dir: alias })
        .lock?.('task', '[1]')
        .then((releaseIt) => {
          taken = true;
          return releaseIt;
        });
      // Long enough for the waiter to look at the lock several times (every 2 to 100 ms).
      await new Promise((resolve) => setTimeout(resolve, 300));
      assert.equal(taken, false, 'the store through the link waits');
      await release?.();
      await (await waiting)?.();
      assert.equal(taken, true);
      assert.deepEqual(await readdir(join(dir, 'checkpoint', 'task')), []);
    } finally {
      await rm(alias);
    }
  });

  test('a lock held by another thread of this process is not taken over as stale while it is fresh', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    const release = await store.lock?.('task', '[1]');
    // A worker thread of this process tries the same lock for 300 ms, then reports.
    const library = new URL(import.meta.resolve('checkpoint-tool'));
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(workerData.library).then(async ({ fsStore }) => {
         const store = fsStore({ dir: workerData.dir });
         const taking = store.lock('task', '[1]').then(async (release) => { await release(); return true; });
         const result = await Promise.race([taking, new Promise((resolve) => setTimeout(() => resolve(false), 300))]);
         parentPort.postMessage(result);
         await taking;
       });`,
      { eval: true, workerData: { dir, library: library.href } },
    );
    const [taken] = (await once(worker, 'message')) as [boolean];
    assert.equal(taken, false, 'the other thread waits for this one');
    await release?.();
    await once(worker, 'exit');
    assert.deepEqual(await readdir(join(dir, 'checkpoint', 'task')), []);
  });

  test('under its lock, the lock file naming its owner becomes the entry; a lock taken over meanwhile still stores it', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    const lock = store.lock?.bind(store);
    assert.ok(lock);
    const release = await lock('task', '[1]');
    const [lockFile = ''] = await readdir(join(dir, 'checkpoint', 'task'));
    assert.ok(lockFile.endsWith('.entry.lock'), lockFile);
    const owner = JSON.parse(await readFile(join(dir, 'checkpoint', 'task', lockFile), 'utf8'));
    assert.equal(owner.pid, process.pid);
    const first = entryOf('[1]', bytesOf('first'));
    await store.write('task', '[1]', first);
    assert.deepEqual(await readdir(join(dir, 'checkpoint', 'task')), [lockFile.slice(0, -'.lock'.length)]);
    await release();
    // Another process took the lock over as stale and removed it: the write still lands, whole.
    const releaseSecond = await lock('task', '[2]');
    const secondLock = (await readdir(join(dir, 'checkpoint', 'task'))).find((name) => name.endsWith('.lock'));
    await rm(join(dir, 'checkpoint', 'task', secondLock as string));
    const second = entryOf('[2]', bytesOf('second'));
    await store.write('task', '[2]', second);
    await releaseSecond();
    // Taken over (moved aside), and locked again by the other process: a new file, which is neither
    // written into, moved nor removed. The lock's file, kept open since it was taken, is no longer
    // the one its path names.
    const otherOwner = JSON.stringify({ pid: process.pid + 1, host: 'another-host' });
    const releaseThird = await lock('task', '[3]');
    const thirdLock = join(dir, 'checkpoint', 'task', (await onlyLock(dir, 'task')) as string);
    await rm(thirdLock);
    await writeFile(thirdLock, otherOwner, { flag: 'wx' });
    const third = entryOf('[3]', bytesOf('third'));
    await store.write('task', '[3]', third);
    await releaseThird();
    assert.equal(await readFile(thirdLock, 'utf8'), otherOwner);
    assert.deepEqual(await fsStore({ dir }).readValue('task', '[3]'), entryBytes(third));
    await rm(thirdLock);
    // Past the locks kept open (256), a lock is closed once its owner is written, and at the
    // commit its file is known by the owner written in it: one rewritten in place by another
    // process is left alone too.
    const many = await Promise.all(Array.from({ length: 256 }, (_, i) => lock('many', `[${i}]`)));
    const releaseFourth = await lock('task', '[4]');
    const fourthLock = join(dir, 'checkpoint', 'task', (await onlyLock(dir, 'task')) as string);
    await writeFile(fourthLock, otherOwner);
    const fourth = entryOf('[4]', bytesOf('fourth'));
    await store.write('task', '[4]', fourth);
    await releaseFourth();
    await Promise.all(many.map((release) => release()));
    assert.equal(await readFile(fourthLock, 'utf8'), otherOwner);
    assert.deepEqual(await fsStore({ dir }).readValue('task', '[4]'), entryBytes(fourth));
    await rm(fourthLock);
    assert.deepEqual(await readdir(join(dir, 'checkpoint', 'many')), [], 'the 256 locks are released');
    assert.deepEqual((await store.keys('task')).sort(), ['[1]', '[2]', '[3]', '[4]']);
    assert.deepEqual(await fsStore({ dir }).readValue('task', '[1]'), entryBytes(first));
    assert.deepEqual(await fsStore({ dir }).readValue('task', '[2]'), entryBytes(second));
    assert.deepEqual(
      (await tree(dir)).filter((name) => !name.endsWith('.entry') && name.includes('/task/')),
      [],
      'no lock or temporary file is left',
    );
  });

  test('a leftover temporary file, a truncated, padded, foreign or misplaced file is not an entry', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    const good = entryOf('[1]', bytesOf('good', 100));
    await store.write('task', '[1]', good);
    const goodPath = await onlyFile(dir, 'task');
    const goodBytes = await readFile(goodPath);

    // Each damaged file in a folder of its own, under the name the store gives key [1].
    const damaged: Record<string, Uint8Array> = {
      truncatedValue: goodBytes.subarray(0, goodBytes.length - 1),
      truncatedHeader: goodBytes.subarray(0, 20),
      truncatedPrefix: goodBytes.subarray(0, 5),
      empty: new Uint8Array(0),
      padded: Buffer.concat([goodBytes, Buffer.from([0])]),
      foreign: new TextEncoder().encode('{"format":1,"key":"[1]"}'),
      hugeLength: Buffer.concat([
        goodBytes.subarray(0, 4),
        Buffer.from([0xf0, 0xff, 0xff, 0xff]),
        goodBytes.subarray(8),
      ]),
      badMeta: Buffer.concat([goodBytes.subarray(0, 8), Buffer.from('{"format":1,"key":7}'.padEnd(100))]),
    };
    const name = basename(goodPath);
    for (const [folder, bytes] of Object.entries(damaged)) {
      await mkdir(join(dir, 'checkpoint', folder));
      await writeFile(join(dir, 'checkpoint', folder, name), bytes);
      assert.equal(await store.readMeta(folder, '[1]'), undefined, folder);
      assert.equal(await store.readValue(folder, '[1]'), undefined, folder);
      assert.deepEqual(await store.keys(folder), [], folder);
    }

    // A whole entry left as a temporary file, or copied under another key's file name.
    const other = entryOf('[2]', bytesOf('other'));
    await store.write('copies', '[2]', other);
    const otherPath = await onlyFile(dir, 'copies');
    await writeFile(`${otherPath}.0123456789ab.tmp`, await readFile(otherPath));
    await writeFile(join(dir, 'checkpoint', 'copies', name), await readFile(otherPath));
    await store.delete('copies', '[2]');
    assert.equal(await store.readMeta('copies', '[2]'), undefined);
    assert.equal(await store.readMeta('copies', '[1]'), undefined, 'another key in this key’s file');
    assert.deepEqual(await store.keys('copies'), []);

    // The good entry is untouched, and a damaged one is replaced by the next write.
    assert.deepEqual(await store.readMeta('task', '[1]'), good.meta);
    await store.write('truncatedValue', '[1]', good);
    assert.deepEqual(await store.readValue('truncatedValue', '[1]'), entryBytes(good));
    assert.deepEqual(await store.keys('truncatedValue'), ['[1]']);
  });

  test('entries live in <CP_CACHE_DIR or dir>/checkpoint/<namespace>.<task>/, and task.clear() removes the folder', async () => {
    const envDir = await temporaryDir();
    const optionDir = await temporaryDir();
    const computed: number[] = [];
    const layout = task(
      'layout',
      (n: number) => () => {
        computed.push(n);
        return n * 2;
      },
      { namespace: 'ns' },
    );
    const saved = process.env.CP_CACHE_DIR;
    process.env.CP_CACHE_DIR = envDir;
    let fromEnv: Store;
    try {
      fromEnv = fsStore();
    } finally {
      if (saved === undefined) delete process.env.CP_CACHE_DIR;
      else process.env.CP_CACHE_DIR = saved;
    }
    const fromOption = fsStore({ dir: optionDir });
    assert.equal(await layout(1).run({ store: fromEnv }), 2);
    assert.equal(await layout(2).run({ store: fromEnv }), 4);
    assert.equal(await layout(1).run({ store: fromOption }), 2);
    assert.deepEqual(computed, [1, 2, 1]);

    const envTree = await tree(envDir);
    assert.deepEqual(envTree.slice(0, 2), ['checkpoint', 'checkpoint/ns.layout']);
    assert.equal(envTree.length, 4);
    assert.deepEqual(await readdir(join(optionDir, 'checkpoint')), ['ns.layout']);

    assert.equal(await layout(2).run({ store: fsStore({ dir: envDir }) }), 4);
    assert.deepEqual(computed, [1, 2, 1], 'read back through a new store object on the same directory');

    await layout.clear({ store: fromEnv });
    assert.deepEqual(await readdir(join(envDir, 'checkpoint')), []);
    assert.deepEqual(await readdir(join(optionDir, 'checkpoint')), ['ns.layout'], 'the other cache is untouched');
    await layout.clear({ store: fromEnv });
    assert.equal(await layout(2).run({ store: fromEnv }), 4);
    assert.deepEqual(computed, [1, 2, 1, 2], 'recomputed after clear');
    assert.equal(relative(envDir, await onlyFile(envDir, 'ns.layout')).split(sep)[0], 'checkpoint');
  });
});

test('idbStore: a value record with a flipped bit fails its checksum: reported, removed, read as missing', async (t) => {
  const dbName = 'checksums';
  const store = idbStore({ dbName });
  const entry = entryOf('[1]', bytesOf('checked value', 300));
  await store.write('task', '[1]', entry);
  assert.deepEqual(await store.readValue('task', '[1]'), entryBytes(entry));
  // Flip one bit inside the stored value, leaving its length as it was.
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.open(dbName);
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const database = request.result;
      const objects = database.transaction('entries', 'readwrite').objectStore('entries');
      const get = objects.get(['v', 'task', '[1]']);
      get.onsuccess = () => {
        const record = get.result as Uint8Array;
        record[100] = (record[100] as number) ^ 0x04;
        objects.put(record, ['v', 'task', '[1]']).onsuccess = () => {
          database.close();
          resolve();
        };
      };
    };
  });
  const warn = t.mock.method(console, 'warn', () => {});
  assert.equal(await store.readValue('task', '[1]'), undefined);
  assert.equal(warn.mock.callCount(), 1);
  assert.match(String(warn.mock.calls[0]?.arguments[0]), /value checksum mismatch/);
  assert.equal(await store.readMeta('task', '[1]'), undefined, 'the damaged entry is removed whole');
});
