import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { temporaryDir } from './helpers.js';

const execFileAsync = promisify(execFile);
const script = new URL('./fixtures/crash-run.ts', import.meta.url).pathname;
const DEPTH = 30;

/**
 * Runs the graph and SIGKILLs the process once it has reported `after` stored instances (a random
 * point of its progress); resolves to the instances it reported stored.
 */
function runAndKill(dir: string, after: number): Promise<{ finished: string[]; completed: boolean }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script, String(DEPTH)], {
      env: { ...process.env, CP_CACHE_DIR: dir },
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
      if (output.split('\nfinished ').length - 1 >= after) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', () => {
      const lines = output.split('\n');
      resolve({
        finished: lines.filter((line) => line.startsWith('finished ')).map((line) => line.slice(9)),
        completed: lines.some((line) => line.startsWith('value ')),
      });
    });
  });
}

test('a process killed at random moments leaves a cache that the next run completes correctly', async () => {
  const reference = await temporaryDir();
  const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script, String(DEPTH)], {
    env: { ...process.env, CP_CACHE_DIR: reference },
  });
  const expected = stdout.split('\n').find((line) => line.startsWith('value '));
  const all = stdout.split('\n').filter((line) => line.startsWith('finished ')).length;
  assert.equal(all, 8 * (DEPTH + 1) + 1);

  const dir = await temporaryDir();
  const stored = new Set<string>();
  let kills = 0;
  for (let round = 0; round < 12; round++) {
    // Kill points spread over the computation: after a random share of what is left.
    const { finished, completed } = await runAndKill(dir, Math.floor(Math.random() * (all - stored.size) * 0.8));
    for (const label of finished) {
      assert.ok(!stored.has(label), `${label} was stored by an earlier run, yet computed again`);
      stored.add(label);
    }
    if (completed) break;
    kills++;
  }
  const { stdout: final } = await execFileAsync(process.execPath, ['--import', 'tsx', script, String(DEPTH)], {
    env: { ...process.env, CP_CACHE_DIR: dir },
  });
  const lines = final.split('\n');
  assert.equal(
    lines.find((line) => line.startsWith('value ')),
    expected,
  );
  for (const line of lines.filter((l) => l.startsWith('finished '))) {
    assert.ok(!stored.has(line.slice(9)), `${line.slice(9)} was stored before, yet computed again`);
  }
  assert.ok(kills > 0, 'at least one run was killed mid-way');
});
