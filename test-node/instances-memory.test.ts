import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

test('a task holds the instances it made for a second, then only those something still holds: a loop of runs over ids does not grow the heap', {
  timeout: 60_000,
}, async () => {
  // In a process of its own, with `--expose-gc`: the test runner's hooks on promises weigh on the heap here.
  const script = new URL('./fixtures/instances-heap-run.ts', import.meta.url).pathname;
  const { stdout } = await execFileAsync(process.execPath, ['--expose-gc', '--import', 'tsx', script]);
  const { made, left, keptFound, viaKeptFound, droppedCollected, replacedCollected, loopGrowth } = JSON.parse(
    stdout,
  ) as Record<string, unknown>;
  // Equal arguments still give the same instance while one exists: one held by a variable, and
  // one held only by the instance that requires it.
  assert.equal(keptFound, true);
  assert.equal(viaKeptFound, true);
  assert.equal(droppedCollected, true);
  // The instances of a task declared again go as soon as nothing holds them, not a second later,
  // even in a loop that never lets the event loop turn (8 rounds of 10,000 kept would be ~29 MB).
  assert.equal(replacedCollected, true);
  assert.ok(
    Number(loopGrowth) < 6e6,
    `a loop declaring its task again grew by ${(Number(loopGrowth) / 1e6).toFixed(1)} MB`,
  );
  // 100,000 instances weigh about 36 MB while held (about 360 bytes each, with their factories'
  // results): the measure is meaningful only if they were made.
  assert.ok(Number(made) > 20e6, `the instances took only ${(Number(made) / 1e6).toFixed(1)} MB`);
  assert.ok(Number(left) < 4e6, `the instances left ${(Number(left) / 1e6).toFixed(1)} MB behind`);
});
