import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { chooseDownstream, chooseGraph, temporaryDir } from './helpers.js';

const run = promisify(execFile);
const script = new URL('./fixtures/choose-run.ts', import.meta.url).pathname;

/** Runs choose(n, k) in a fresh Node process on the given cache directory. */
async function chooseInProcess(dir: string, n: number, k: number) {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', script, String(n), String(k)], {
    env: { ...process.env, CP_CACHE_DIR: dir },
  });
  return JSON.parse(stdout) as { value: number; finished: string[]; cached: string[] };
}

describe('the README example, each run in a fresh process on the filesystem store', () => {
  test('computes, reuses, recomputes exactly what was cleared and downstream, and clears a task', async () => {
    const dir = await temporaryDir();
    const graph = chooseGraph(6, 3);

    const first = await chooseInProcess(dir, 6, 3);
    assert.equal(first.value, 20);
    assert.deepEqual(new Set(first.finished), graph);
    assert.equal(first.finished.length, graph.size, 'each instance ran once, shared ones too');
    assert.deepEqual(first.cached, []);

    const warm = await chooseInProcess(dir, 6, 3);
    assert.equal(warm.value, 20);
    assert.deepEqual(warm.finished, []);
    assert.deepEqual(new Set(warm.cached), graph);

    // Clear one instance from yet another process, as `choose(3, 3).clear()` in the README.
    const { choose } = await import('./fixtures/choose.js');
    const { fsStore } = await import('checkpoint-tool');
    await choose(3, 3).clear({ store: fsStore({ dir }) });
    const afterClear = await chooseInProcess(dir, 6, 3);
    assert.equal(afterClear.value, 20);
    assert.deepEqual(new Set(afterClear.finished), chooseDownstream(6, 3, 3, 3));
    assert.deepEqual(afterClear.finished, ['choose(3,3)', 'choose(4,3)', 'choose(5,3)', 'choose(6,3)']);

    // Clearing what is not cached is fine.
    await choose(3, 3).clear({ store: fsStore({ dir }) });
    await choose(3, 3).clear({ store: fsStore({ dir }) });

    assert.deepEqual(await readdir(join(dir, 'checkpoint')), ['choose']);
    await choose.clear({ store: fsStore({ dir }) });
    assert.deepEqual(await readdir(join(dir, 'checkpoint')), [], 'task.clear() removes the task folder');
    await choose.clear({ store: fsStore({ dir }) });
    const afterTaskClear = await chooseInProcess(dir, 6, 3);
    assert.deepEqual(new Set(afterTaskClear.finished), graph);
  });

  test('a larger graph from a partly warm cache computes only the new instances', async () => {
    const dir = await temporaryDir();
    await chooseInProcess(dir, 6, 3);
    const bigger = await chooseInProcess(dir, 8, 4);
    assert.equal(bigger.value, 70);
    const expected = [...chooseGraph(8, 4)].filter((label) => !chooseGraph(6, 3).has(label));
    assert.deepEqual(new Set(bigger.finished), new Set(expected));
    assert.equal(bigger.cached.length + bigger.finished.length, chooseGraph(8, 4).size);
  });
});
