import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { access, mkdir, readdir, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CorruptEntry, fsStore } from 'checkpoint-tool';
import { patch, temporaryDir } from './helpers.js';
import { bytesOf, entryBytes, entryOf } from './store-checks.js';

const require = createRequire(import.meta.url);
const fsPromises = require('node:fs/promises') as typeof import('node:fs/promises');

const lockPath = (dir: string, folder: string, key: string) =>
  join(dir, 'checkpoint', folder, `${createHash('sha256').update(key).digest('hex')}.entry.lock`);
const exists = (path: string) =>
  access(path).then(
    () => true,
    () => false,
  );

test('clearing a task while entries are written into its folder succeeds, and leaves nothing aside', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  await store.write('busy', '[0]', entryOf('[0]', bytesOf('0')));
  const folder = join(dir, 'checkpoint', 'busy');
  // A writer (another run, another process) adds a file to the folder at every turn of the event
  // loop, making it again if it is gone: between the listing of a removal in place and its last
  // rmdir, the folder has gained a file (ENOTEMPTY).
  let writing = true;
  let written = 0;
  const writer = () => {
    if (!writing) return;
    for (;;) {
      try {
        mkdirSync(folder, { recursive: true });
        writeFileSync(join(folder, `${written}.entry.tmp`), 'x');
        break;
      } catch (error) {
        // Moved aside (in another thread) between the two: made again.
        if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      }
    }
    written++;
    setImmediate(writer);
  };
  writer();
  try {
    for (let i = 0; i < 5; i++) await store.clear('busy');
  } finally {
    writing = false;
  }
  assert.ok(written > 5);
  assert.deepEqual(await store.keys('busy'), []);
  // Only task folders are left beside it: what was moved aside is removed.
  assert.deepEqual(await readdir(join(dir, 'checkpoint')), ['busy']);
});

test("a folder left aside by a killed clear is removed by the task's next clear, and never read as a task", async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  const root = join(dir, 'checkpoint');
  const left = join(root, '.tsk.0123456789ab.cleared');
  await mkdir(left, { recursive: true });
  await writeFile(join(left, 'x.entry'), 'partly removed');
  // A task folder named like one, and another task's leftover, are not this task's leftovers.
  const lookalike = 'tsk.0123456789ab.cleared';
  await store.write(lookalike, '[1]', entryOf('[1]', bytesOf('1')));
  const other = join(root, '.tsk2.0123456789ab.cleared');
  await mkdir(other);
  await store.write('tsk', '[1]', entryOf('[1]', bytesOf('1')));
  assert.deepEqual(await store.keys('tsk'), ['[1]']);
  await store.clear('tsk');
  assert.deepEqual(await store.keys('tsk'), []);
  assert.deepEqual(await store.readMetas?.('tsk', ['[1]']), [undefined]);
  assert.equal(await exists(left), false);
  assert.equal(await exists(other), true);
  assert.deepEqual(await store.keys(lookalike), ['[1]']);
  // Clearing a task that has no folder is not an error either.
  await store.clear('none');
});

test('a lock holder whose folder was cleared never commits into the lock another run took at its path', async () => {
  const dir = await temporaryDir();
  const corrupt: CorruptEntry[] = [];
  const store = fsStore({ dir, onCorrupt: (entry) => corrupt.push(entry) });
  const other = fsStore({ dir }); // another process on the same cache
  const mine = entryOf('[1]', bytesOf('mine'), { stamp: 'mine' });
  const theirs = entryOf('[1]', bytesOf('theirs'), { stamp: 'theirs' });
  const release = await store.lock?.('t', '[1]');
  // Before the entry is written into the lock file (its file kept open): the folder is cleared, and
  // the other process takes the lock at the same path (holding only its owner so far). Only the
  // check of the path just before the rename can see it.
  await other.clear('t');
  const releaseOther = await other.lock?.('t', '[1]');
  assert.ok(releaseOther);
  await store.write('t', '[1]', mine);
  await release?.();
  // The entry is whole, and the other lock is still there, its holder's.
  assert.equal((await store.readMeta('t', '[1]'))?.stamp, 'mine');
  assert.equal(await exists(lockPath(dir, 't', '[1]')), true);
  await other.write('t', '[1]', theirs);
  await releaseOther();
  assert.equal(await exists(lockPath(dir, 't', '[1]')), false, 'committed into its lock file');
  assert.equal((await store.readMeta('t', '[1]'))?.stamp, 'theirs');
  assert.deepEqual((await store.readValue('t', '[1]'))?.value, entryBytes(theirs));
  assert.deepEqual(corrupt, []);
});

test('a lock holder never renames into its entry a lock taken at its path after its last check of it', async () => {
  const dir = await temporaryDir();
  const corrupt: CorruptEntry[] = [];
  const store = fsStore({ dir, onCorrupt: (entry) => corrupt.push(entry) });
  const release = await store.lock?.('t', '[1]');
  const lock = lockPath(dir, 't', '[1]');
  const folder = join(dir, 'checkpoint', 't');
  const others = '{"pid":1,"host":"elsewhere","thread":0,"holder":"other"}';
  // Whatever this thread runs at its next chance after the lock path is looked at (another run of
  // it clearing the task, then one taking the lock again): the path then names another lock.
  const fs = require('node:fs') as typeof import('node:fs');
  const statSync = fs.statSync;
  let armed = true;
  const undo = patch(fs, 'statSync', ((path: string, options?: object) => {
    if (armed && path === lock) {
      armed = false;
      queueMicrotask(() => {
        fs.renameSync(folder, `${folder}-cleared`);
        mkdirSync(folder);
        writeFileSync(lock, others);
      });
    }
    return statSync(path, options);
  }) as typeof fs.statSync);
  try {
    await store.write('t', '[1]', entryOf('[1]', bytesOf('mine')));
  } finally {
    undo();
  }
  await release?.();
  assert.equal(armed, false, 'the lock path was looked at');
  // The other lock is where it was, and no damaged entry was made of it.
  assert.equal(readFileSync(lock, 'utf8'), others);
  await store.readMeta('t', '[1]');
  assert.deepEqual(corrupt, []);
});

test('a run of the same store waits for a lock whose file was cleared until its holder is done', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  const first = await store.lock?.('t', '[1]');
  await store.clear('t');
  let taken = false;
  const second = store.lock?.('t', '[1]').then((release) => {
    taken = true;
    return release;
  });
  // Whatever is in flight settles (the second holder would have its lock by now).
  await new Promise((resolve) => setTimeout(resolve, 50));
  assert.equal(taken, false);
  await first?.();
  const release = await second;
  // The first holder's release left the second one's lock alone; the second commits into it.
  assert.equal(await exists(lockPath(dir, 't', '[1]')), true);
  const entry = entryOf('[1]', bytesOf('second'));
  await store.write('t', '[1]', entry);
  assert.equal(await exists(lockPath(dir, 't', '[1]')), false);
  await release?.();
  assert.deepEqual((await store.readValue('t', '[1]'))?.value, entryBytes(entry));
});

test('writes and locks whose folder vanishes, even during its mkdir, make it again, a bounded number of times', async () => {
  const dir = await temporaryDir();
  const realMkdir = fsPromises.mkdir;
  let calls = 0;
  let failing = 0;
  let clearing = 0;
  const remover = fsStore({ dir }); // another process clearing the task
  const undo = patch(fsPromises, 'mkdir', (async (...args: Parameters<typeof realMkdir>) => {
    calls++;
    if (failing > 0) {
      // A parent removed meanwhile.
      failing--;
      throw Object.assign(new Error(`ENOENT: simulated, mkdir '${args[0]}'`), { code: 'ENOENT' });
    }
    const made = await realMkdir(...args);
    if (clearing > 0) {
      // Cleared right after it was made.
      clearing--;
      await remover.clear('t');
    }
    return made;
  }) as typeof realMkdir);
  try {
    for (const [key, locked] of [
      ['[1]', false],
      ['[2]', true],
    ] as const) {
      const entry = entryOf(key, bytesOf(key));
      for (const [fails, clears] of [
        [2, 0],
        [0, 3],
        [1, 2],
      ] as [number, number][]) {
        // A fresh store object knows of no folder yet.
        const store = fsStore({ dir });
        failing = fails;
        clearing = clears;
        calls = 0;
        const release = locked ? await store.lock?.('t', key) : undefined;
        await store.write('t', key, entry);
        await release?.();
        assert.equal(calls, fails + clears + 1);
        assert.deepEqual((await store.readValue('t', key))?.value, entryBytes(entry));
      }
    }
    // A folder that cannot be made fails the write, after a few attempts.
    failing = Number.POSITIVE_INFINITY;
    calls = 0;
    await assert.rejects(async () => fsStore({ dir }).write('t', '[3]', entryOf('[3]', bytesOf('3'))), {
      code: 'ENOENT',
    });
    assert.ok(calls > 3 && calls <= 100, `${calls} attempts`);
  } finally {
    undo();
  }
});

test('two store objects on one cache in one thread never take each other’s lock for their own after a clear', async () => {
  const dir = await temporaryDir();
  const [a, b, c] = [fsStore({ dir }), fsStore({ dir }), fsStore({ dir })];
  const lockFile = (key: string) =>
    join(dir, 'checkpoint', 't', `${createHash('sha256').update(key).digest('hex')}.entry.lock`);
  // Past 256 kept open, a lock is known by its owner's text: A must not take B's for its own.
  const keys = Array.from({ length: 300 }, (_, i) => `[${i}]`);
  const releasesA = await Promise.all(keys.map((key) => a.lock?.('t', key)));
  await b.clear('t');
  const releasesB = await Promise.all(keys.map((key) => b.lock?.('t', key)));
  await Promise.all(releasesA.map((release) => release?.()));
  assert.equal(keys.filter((key) => existsSync(lockFile(key))).length, 300, "A's releases left B's locks");
  // A releasing its cleared lock must not stop B's from being refreshed: a lock of this thread
  // that is refreshed is never stale to it, however old its file looks.
  const old = new Date(Date.now() - 60_000);
  await utimes(lockFile('[1]'), old, old);
  let taken = false;
  const byC = c.lock?.('t', '[1]').then((release) => {
    taken = true;
    return release;
  });
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.equal(taken, false, 'C took the lock B holds');
  await Promise.all(releasesB.map((release) => release?.()));
  await (await byC)?.();
  assert.equal(taken, true);
});
