import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { fsStore } from 'checkpoint-tool';
import { random, reference, SIZE, soakNode } from './fixtures/soak-graph.js';
import { temporaryDir } from './helpers.js';

const script = new URL('./fixtures/soak-run.ts', import.meta.url).pathname;

/** Runs the soak graph in a child process; kills it after `killAfter` ms when given. */
function soakRun(dir: string, fail: number[], killAfter?: number) {
  return new Promise<{ finished: string[]; values?: number[]; failed: boolean }>((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, CP_CACHE_DIR: dir, SOAK_FAIL: fail.join(',') },
    });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    const timer = killAfter === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfter);
    child.on('error', reject);
    child.on('close', () => {
      clearTimeout(timer);
      const lines = output.split('\n');
      const values = lines.find((line) => line.startsWith('values '));
      resolve({
        finished: lines.filter((line) => line.startsWith('finished ')).map((line) => line.slice(9)),
        values: values ? JSON.parse(values.slice(7)) : undefined,
        failed: lines.some((line) => line.startsWith('failed ')),
      });
    });
  });
}

test('soak: a random DAG of 2,000 instances under failures, clears and kills ends equal to the reference', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  const next = random(7);
  const expected = reference();
  const counts = { rounds: 0, failuresInjected: 0, cleared: 0, killed: 0 };
  for (let round = 0; round < 8; round++) {
    counts.rounds++;
    const fail = Array.from({ length: Math.floor(next() * 4) }, () => Math.floor(next() * SIZE));
    counts.failuresInjected += fail.length;
    const kill = round % 3 === 2 ? 150 + Math.floor(next() * 500) : undefined;
    const result = await soakRun(dir, fail, kill);
    if (kill !== undefined && !result.values && !result.failed) counts.killed++;
    if (result.values) assert.deepEqual(result.values, expected, `round ${round}: values differ from the reference`);
    // Whatever a failing instance computed never reached the cache.
    for (const i of fail) assert.ok(!result.finished.includes(`soak-node(${i})`));
    const clears = Array.from({ length: Math.floor(next() * 20) }, () => Math.floor(next() * SIZE));
    counts.cleared += clears.length;
    await Promise.all(clears.map((i) => soakNode(i).clear({ store })));
  }
  const final = await soakRun(dir, []);
  assert.deepEqual(final.values, expected);
  const again = await soakRun(dir, []);
  assert.deepEqual(again.finished, [], 'a final warm run computes nothing');
  assert.ok(counts.killed > 0, 'some rounds were killed mid-run');
  console.log(`soak: ${JSON.stringify(counts)}`);
});
