import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { readdir, readFile, rm, stat, statfs, truncate, utimes, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'node:test';
import { type Compute, type CorruptEntry, fsStore, requires, task } from 'checkpoint-tool';
import { chooseDownstream, patch, recorder, temporaryDir } from './helpers.js';

const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof import('node:fs');

// 80 instances: enough for planning to read the folder's headers at once (64 and up), and to index them.
const N = 16;
const K = 8;
const answer = 12_870;
const choose = task(
  'index_choose',
  (n: number, k: number): Compute<number> =>
    0 < k && k < n ? requires(choose(n - 1, k - 1), choose(n - 1, k))((a, b) => a + b) : () => 1,
);

/** A fresh cache with choose(N, K) computed; `onCorrupt` records what the store found damaged. */
async function computed() {
  const dir = await temporaryDir();
  const damaged: CorruptEntry[] = [];
  const store = fsStore({ dir, onCorrupt: (entry) => damaged.push(entry) });
  const events = recorder();
  const folder = join(dir, 'checkpoint', 'index_choose');
  const run = async (tick = true) => {
    // As between two runs of a program: its folder's last change is in an earlier clock tick.
    if (tick) await tickAfter(folder).catch(() => {});
    events.clear();
    const value = await choose(N, K).run({ store, onEvent: events.onEvent });
    return { value, computed: events.labels('started').length };
  };
  assert.deepEqual(await run(), { value: answer, computed: 80 });
  const index = join(dir, 'checkpoint', '.index_choose.index');
  // The index is written just after the run that read the headers; a read of the folder by the
  // same store waits for it.
  const indexed = () => store.readMetas?.('index_choose', keysOf(80, 1));
  return { dir, store, run, damaged, folder, index, indexed };
}

/** The keys of choose(n, 1)'s graph: choose(i, 1) for i from 1 to n, choose(i, 0) for i from 1 to n - 1. */
function keysOf(n: number, k: 1): string[] {
  return Array.from({ length: n }, (_, i) => [
    JSON.stringify([i + 1, k]),
    ...(i > 0 ? [JSON.stringify([i, 0])] : []),
  ]).flat();
}

/**
 * Waits for the filesystem's clock to pass the folder's last change (a few ms, the kernel's tick):
 * an index is made only of a folder last changed before the clock tick its making began in.
 */
async function tickAfter(folder: string): Promise<void> {
  const probe = `${folder}.probe`;
  for (;;) {
    await writeFile(probe, '');
    const [now, last] = await Promise.all([stat(probe, { bigint: true }), stat(folder, { bigint: true })]);
    await rm(probe);
    if (now.mtimeNs > last.mtimeNs && now.mtimeNs > last.ctimeNs) return;
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Where the index is not kept (not a local Linux filesystem), these tests cannot see it at work. */
async function assertIndexable(dir: string): Promise<void> {
  const { type } = await statfs(dir);
  assert.ok(
    process.platform === 'linux' && [0xef53, 0x01021994, 0x794c7630, 0x58465342, 0x9123683e].includes(type >>> 0),
    `the temporary directory is on a filesystem without indexes (type 0x${type.toString(16)})`,
  );
}

/** Counts the entry files opened (blocking, as headers in the page cache are read) while `action` runs. */
async function entryOpens(action: () => Promise<unknown>): Promise<number> {
  let opens = 0;
  const original = fs.openSync;
  const undo = patch(fs, 'openSync', ((...args: Parameters<typeof fs.openSync>) => {
    if (String(args[0]).endsWith('.entry')) opens++;
    return original(...args);
  }) as typeof fs.openSync);
  try {
    await action();
  } finally {
    undo();
  }
  return opens;
}

test('the first warm run indexes a folder of many entries; the next plans from the index alone', async () => {
  const { dir, run, folder, index } = await computed();
  await assertIndexable(dir);
  let warm: unknown;
  // The first warm run reads every header, and writes the index.
  assert.ok((await entryOpens(async () => (warm = await run()))) >= 80);
  assert.deepEqual(warm, { value: answer, computed: 0 });
  // The next one opens at most the root's file, for its value.
  assert.ok((await entryOpens(async () => (warm = await run()))) <= 1);
  assert.deepEqual(warm, { value: answer, computed: 0 });
  assert.ok((await readFile(index)).length > 0);
  // The index is what a cold run's planning read: no index file was left in the folder itself.
  assert.ok((await readdir(folder)).every((name) => name.endsWith('.entry')));
});

test('while the index holds, a warm run reads no upstream header: an entry changed in place, its folder unchanged, goes unseen', async () => {
  const { run, damaged, folder } = await computed();
  await run();
  // Every entry but the root's emptied in place: a run that read their headers would find them
  // damaged, and compute them all again.
  const root = `${createHash('sha256')
    .update(JSON.stringify([N, K]))
    .digest('hex')}.entry`;
  const names = (await readdir(folder)).filter((name) => name !== root);
  assert.equal(names.length, 79);
  for (const name of names) await truncate(join(folder, name), 0);
  assert.deepEqual(await run(), { value: answer, computed: 0 });
  assert.deepEqual(damaged, []);
});

test('clearing an upstream instance after the index is made recomputes what depends on it', async () => {
  const { store, run } = await computed();
  await run();
  await run();
  await choose(12, 6).clear({ store });
  const again = await run();
  assert.equal(again.value, answer);
  assert.equal(again.computed, chooseDownstream(N, K, 12, 6).size);
  assert.deepEqual(await run(), { value: answer, computed: 0 });
});

test('a change by another store object or process (an entry removed) makes the index stale', async () => {
  const { dir, run } = await computed();
  await run();
  const other = fsStore({ dir });
  await other.delete('index_choose', JSON.stringify([N - 1, K]));
  // The removed entry and the root, which depends on it.
  assert.deepEqual(await run(), { value: answer, computed: 2 });
});

test('an index is neither trusted nor written for a folder changed at or after the moment the index began', async () => {
  const { dir, run, folder, index, indexed } = await computed();
  await assertIndexable(dir);
  // A folder whose time is now's or later could change again without its time moving.
  const later = new Date(Date.now() + 60_000);
  await utimes(folder, later, later);
  await run(false);
  await indexed();
  await assert.rejects(readFile(index), { code: 'ENOENT' });
  const earlier = new Date(Date.now() - 60_000);
  await utimes(folder, earlier, earlier);
  await run();
  await indexed();
  assert.ok((await readFile(index)).length > 0);
});

test("the moment an index begins is the filesystem's: a folder changed in the same tick, by its modification or its change time, is not indexed", async () => {
  for (const time of ['mtimeNs', 'ctimeNs'] as const) {
    const { dir, run, folder, index, indexed } = await computed();
    await assertIndexable(dir);
    // Either time can be the later one: the modification time when set ahead (`touch`).
    const moved = new Date(Date.now() + (time === 'mtimeNs' ? 60_000 : -60_000));
    await utimes(folder, moved, moved);
    const last = (await stat(folder, { bigint: true }))[time];
    // The index's file, made as the index begins, dated exactly then.
    const original = fs.fstatSync;
    const undo = patch(fs, 'fstatSync', ((...args: Parameters<typeof fs.fstatSync>) => {
      const stats = original(...args);
      return typeof (stats as BigIntStats).mtimeNs === 'bigint'
        ? Object.assign(Object.create(stats), { mtimeNs: last })
        : stats;
    }) as typeof fs.fstatSync);
    try {
      await run();
      await indexed();
    } finally {
      undo();
    }
    await assert.rejects(readFile(index), { code: 'ENOENT' }, time);
  }
});

test('an index that is damaged, or of an earlier state of its folder, is not used, and is made again', async () => {
  const { store, run, index, indexed } = await computed();
  await run();
  await indexed();
  const before = await readFile(index);
  // Of an earlier state: choose(15, 7) cleared and recomputed since.
  await choose(15, 7).clear({ store });
  assert.deepEqual(await run(), { value: answer, computed: 2 });
  await writeFile(index, before);
  assert.deepEqual(await run(), { value: answer, computed: 0 });
  await indexed();
  assert.notDeepEqual(await readFile(index), before);
  // Damaged: a stamp changed, the JSON still sound; trusted, it would make its dependents stale.
  const text = (await readFile(index)).toString();
  const at = text.indexOf('"stamp":"') + '"stamp":"'.length;
  await writeFile(index, text.slice(0, at) + (text[at] === '0' ? '1' : '0') + text.slice(at + 1));
  let warm: unknown;
  assert.ok((await entryOpens(async () => (warm = await run()))) >= 80);
  assert.deepEqual(warm, { value: answer, computed: 0 });
});

test("a change that puts the folder's modification time back (tar, rsync -a) is seen by its change time", async () => {
  const { dir, run, folder, indexed } = await computed();
  await run();
  await indexed();
  const { mtimeNs } = await stat(folder, { bigint: true });
  await fsStore({ dir }).delete('index_choose', JSON.stringify([N - 1, K]));
  // To the nanosecond, as `utimensat` sets it (Node's `utimes` rounds).
  execFileSync('touch', [
    '-m',
    '-d',
    `@${mtimeNs / 1_000_000_000n}.${String(mtimeNs % 1_000_000_000n).padStart(9, '0')}`,
    folder,
  ]);
  assert.equal((await stat(folder, { bigint: true })).mtimeNs, mtimeNs);
  assert.deepEqual(await run(), { value: answer, computed: 2 });
});

test("a task's clear removes its index", async () => {
  const { dir, run, index, indexed } = await computed();
  await run();
  await indexed();
  assert.ok((await readFile(index)).length > 0);
  await choose.clear({ store: fsStore({ dir }) });
  await assert.rejects(readFile(index), { code: 'ENOENT' });
  assert.deepEqual(await readdir(join(dir, 'checkpoint')), []);
});

test('entries of other graphs in the folder are listed unread in the index, and read when asked', async () => {
  const { run, store, damaged, indexed } = await computed();
  // Another graph in the same folder, of 159 instances, most of them not in choose(N, K)'s.
  assert.equal(await choose(80, 1).run({ store }), 80);
  await run();
  await indexed();
  // Planned from the index: every one of them found, read from its file.
  const keys = keysOf(80, 1);
  let metas: unknown[] = [];
  assert.ok((await entryOpens(async () => (metas = (await store.readMetas?.('index_choose', keys)) ?? []))) > 0);
  assert.deepEqual(
    metas.map((meta) => (meta as { key: string } | undefined)?.key),
    keys,
  );
  assert.deepEqual(damaged, []);
});

test('a process that exits right after its run leaves no unfinished index file behind', async () => {
  const dir = await temporaryDir();
  const script = (name: string) => new URL(`./fixtures/${name}`, import.meta.url).pathname;
  const inChild = (name: string) =>
    execFileSync(process.execPath, ['--import', 'tsx', script(name), '16', '8'], {
      env: { ...process.env, CP_CACHE_DIR: dir },
      encoding: 'utf8',
    });
  await assertIndexable(dir);
  inChild('choose-run.ts');
  const root = join(dir, 'checkpoint');
  await tickAfter(join(root, 'choose'));
  // Its planning read 80 headers and began an index, which it would write after the run.
  assert.deepEqual(JSON.parse(inChild('choose-exit.ts')), { value: answer });
  assert.deepEqual(await readdir(root), ['choose']);
});

test("writing an index removes the folder's index files left unfinished by killed processes, not one being written", async () => {
  const { dir, run, indexed } = await computed();
  await assertIndexable(dir);
  const root = join(dir, 'checkpoint');
  const left = join(root, '.index_choose.index.0123456789ab.tmp');
  const young = join(root, '.index_choose.index.ba9876543210.tmp');
  // Another task's, whose name starts the same way.
  const other = join(root, '.index_choose.index.index.0123456789ab.tmp');
  for (const path of [left, young, other]) await writeFile(path, '');
  const hourAgo = new Date(Date.now() - 3_600_000);
  await utimes(left, hourAgo, hourAgo);
  await utimes(other, hourAgo, hourAgo);
  await run();
  await indexed();
  assert.deepEqual((await readdir(root)).sort(), [
    '.index_choose.index',
    '.index_choose.index.ba9876543210.tmp',
    '.index_choose.index.index.0123456789ab.tmp',
    'index_choose',
  ]);
});
