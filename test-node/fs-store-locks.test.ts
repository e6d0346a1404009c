import assert from 'node:assert/strict';
import { once } from 'node:events';
import { readdir, readFile, rm, symlink, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { describe, mock, type TestContext, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { fsStore, type Store, task } from 'checkpoint-tool';
import { onlyLock, patch, temporaryDir, tree } from './helpers.js';
import { bytesOf, entryBytes, entryOf } from './store-checks.js';

const require = createRequire(import.meta.url);
const fsPromises = require('node:fs/promises') as typeof import('node:fs/promises');

describe('fsStore on disk', () => {
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
    assert.deepEqual((await second.readValue('task', '[1]'))?.value, entryBytes(entry));
    assert.deepEqual(await readdir(join(dir, 'checkpoint', 'task')).then((names) => names.length), 1);
  });

  /**
   * A lock held by one store of a new cache, and `take()`, another store's taking of it, where polls
   * never come (timers mocked): only being woken, or not waiting at all, takes the lock then.
   */
  async function heldWithoutPolls(t: TestContext) {
    const dir = await temporaryDir();
    const first = fsStore({ dir });
    const second = fsStore({ dir });
    const release = await first.lock?.('task', '[1]');
    mock.timers.enable({ apis: ['setTimeout'] });
    t.after(() => mock.timers.reset());
    let taken = false;
    const take = () =>
      second.lock?.('task', '[1]').then((releaseIt) => {
        taken = true;
        return releaseIt;
      });
    /** Lets up to `count` turns of the event loop pass, fewer once the lock is taken. */
    const turns = async (count: number) => {
      for (let i = 0; i < count && !taken; i++) await new Promise((resolve) => setImmediate(resolve));
    };
    /** Whether the lock is taken within 10 s. */
    const takenSoon = async () => {
      const until = Date.now() + 10_000;
      while (!taken && Date.now() < until) await turns(10);
      return taken;
    };
    return { release, take, turns, takenSoon, taken: () => taken };
  }

  test('a run of this process waiting for a lock that another run here releases takes it at once, not at its next poll', async (t) => {
    const { release, take, turns, takenSoon, taken } = await heldWithoutPolls(t);
    const waiting = take();
    // Time to find the lock held, and to start waiting.
    await turns(200);
    assert.equal(taken(), false, 'the second store waits for the first');
    await release?.();
    assert.equal(await takenSoon(), true, 'the release woke the waiting store');
    await (await waiting)?.();
  });

  test('a lock released here while a waiter looks at it, before it starts waiting, is taken at once', async (t) => {
    const { release, take, takenSoon } = await heldWithoutPolls(t);
    // The waiter found the lock held, and looks at whether it is stale: the release comes then.
    const original = fsPromises.lstat;
    let released = false;
    const undo = patch(fsPromises, 'lstat', (async (...args: Parameters<typeof fsPromises.lstat>) => {
      if (!released && String(args[0]).endsWith('.lock')) {
        released = true;
        await release?.();
      }
      return original(...args);
    }) as typeof fsPromises.lstat);
    t.after(undo);
    const waiting = take();
    assert.equal(await takenSoon(), true, 'the release before the wait did not leave the waiter to its next poll');
    assert.equal(released, true);
    await (await waiting)?.();
  });

  test('a run of another version of a task does not wait for a run computing the same instance, whose value it could not use', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    let open!: () => void;
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let started!: () => void;
    const computing = new Promise<void>((resolve) => {
      started = resolve;
    });
    const v1 = task(
      'lock-versions',
      (x: number) => async () => {
        started();
        await gate;
        return `v1:${x}`;
      },
      { version: '1' },
    );
    const first = v1(1).run({ store });
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      // Version 1 holds the instance's lock while it computes.
      await computing;
      const v2 = task('lock-versions', (x: number) => () => `v2:${x}`, { version: '2' });
      // Waiting would last as long as version 1 computes: here until the gate opens, which only a
      // failure of this test does (after 10 s, rather than hanging).
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('the run of version 2 waited for version 1')), 10_000);
      });
      assert.equal(await Promise.race([v2(1).run({ store }), late]), 'v2:1');
      open();
      assert.equal(await first, 'v1:1');
      // Version 1, stored last, replaced version 2's entry: version 2 computes its value again,
      // never taking version 1's for its own.
      assert.equal(await v2(1).run({ store }), 'v2:1');
    } finally {
      clearTimeout(timer);
      open();
      await first.catch(() => {});
    }
  });

  test('under the lock of a version, the entry of that version is written into its lock file', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    const release = await store.lock?.('task', '[1]', '2');
    assert.ok(release);
    const [lockFile = ''] = await readdir(join(dir, 'checkpoint', 'task'));
    assert.match(lockFile, /\.entry\.[0-9a-f]{16}\.lock$/);
    const entry = entryOf('[1]', bytesOf('v2'));
    await store.write('task', '[1]', { ...entry, meta: { ...entry.meta, version: '2' } });
    // Committed: the lock file became the entry, before the release (not a temporary file beside it).
    assert.deepEqual(await readdir(join(dir, 'checkpoint', 'task')), [lockFile.replace(/\.[0-9a-f]{16}\.lock$/, '')]);
    await release();
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
    assert.deepEqual((await fsStore({ dir }).readValue('task', '[3]'))?.value, entryBytes(third));
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
    assert.deepEqual((await fsStore({ dir }).readValue('task', '[4]'))?.value, entryBytes(fourth));
    await rm(fourthLock);
    assert.deepEqual(await readdir(join(dir, 'checkpoint', 'many')), [], 'the 256 locks are released');
    assert.deepEqual((await store.keys('task')).sort(), ['[1]', '[2]', '[3]', '[4]']);
    assert.deepEqual((await fsStore({ dir }).readValue('task', '[1]'))?.value, entryBytes(first));
    assert.deepEqual((await fsStore({ dir }).readValue('task', '[2]'))?.value, entryBytes(second));
    assert.deepEqual(
      (await tree(dir)).filter((name) => !name.endsWith('.entry') && name.includes('/task/')),
      [],
      'no lock or temporary file is left',
    );
  });
});
