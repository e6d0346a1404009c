import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, symlink, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { temporaryDir } from './helpers.js';

const execFileAsync = promisify(execFile);
const script = new URL('./fixtures/concurrent-run.ts', import.meta.url).pathname;

async function sumInProcess(dir: string, from: number, to: number) {
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script, String(from), String(to)], {
    env: { ...process.env, CP_CACHE_DIR: dir },
  });
  return JSON.parse(stdout) as { value: number; finished: string[] };
}

const sumOfSquares = (from: number, to: number) => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += i * i;
  return sum;
};

test('processes running overlapping graphs on one cache compute each instance once between them', async () => {
  const dir = await temporaryDir();
  const runs = await Promise.all([sumInProcess(dir, 0, 40), sumInProcess(dir, 20, 60), sumInProcess(dir, 10, 50)]);
  assert.deepEqual(
    runs.map((r) => r.value),
    [sumOfSquares(0, 40), sumOfSquares(20, 60), sumOfSquares(10, 50)],
  );
  const leaves = runs.flatMap((r) => r.finished.filter((label) => label.startsWith('conc-leaf(')));
  assert.equal(leaves.length, 60, `each of the 60 leaves computed exactly once, got ${leaves.length}`);
  assert.equal(new Set(leaves).size, 60);
  // And a later run finds everything cached.
  assert.deepEqual((await sumInProcess(dir, 0, 60)).finished, ['conc-total(0,60)']);
});

test('a lock whose dead owner was writing a large entry into it does not block the cache', {
  timeout: 60_000,
}, async () => {
  const dir = await temporaryDir();
  const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
  const folder = join(dir, 'checkpoint', 'conc-leaf');
  await mkdir(folder, { recursive: true });
  const lock = join(folder, `${createHash('sha256').update('[2]').digest('hex')}.entry.lock`);
  // As a lock file looks while its owner writes a large value after the header's room: the owner
  // record, the room not yet written (zeros), then value bytes.
  const owner = Buffer.from(JSON.stringify({ pid: dead, host: hostname(), thread: 0, holder: 'h' }));
  await writeFile(lock, Buffer.concat([owner, Buffer.alloc(512 - owner.length), Buffer.alloc(4096, 7)]));
  // Never old enough to be taken over by its age: only its dead owner can free it.
  const future = new Date(Date.now() + 3600_000);
  await utimes(lock, future, future);
  const result = await sumInProcess(dir, 0, 5);
  assert.equal(result.value, sumOfSquares(0, 5));
  assert.ok(result.finished.includes('conc-leaf(2)'));
});

test('a lock left by a dead process does not block the cache', async () => {
  const dir = await temporaryDir();
  const dead = spawnSync(process.execPath, ['-e', 'process.exit(0)']).pid;
  const folder = join(dir, 'checkpoint', 'conc-leaf');
  await mkdir(folder, { recursive: true });
  const hash = createHash('sha256').update('[3]').digest('hex');
  await writeFile(join(folder, `${hash}.entry.lock`), JSON.stringify({ pid: dead, host: hostname() }));
  // The usual kind of lock: a symbolic link naming its owner.
  const other = createHash('sha256').update('[4]').digest('hex');
  await symlink(JSON.stringify({ pid: dead, host: hostname() }), join(folder, `${other}.entry.lock`));
  const result = await sumInProcess(dir, 0, 5);
  assert.equal(result.value, sumOfSquares(0, 5));
  assert.ok(result.finished.includes('conc-leaf(3)'));
  assert.ok(result.finished.includes('conc-leaf(4)'));
});
