import assert from 'node:assert/strict';
import { test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { memoryStore, nodePool } from 'checkpoint-tool';
// @ts-expect-error: a plain JavaScript module, without types
import { setupSeen, triple } from './fixtures/pool-plain.js';
import { square } from './fixtures/pool-tasks.js';

test('a TypeScript tasks module loads in the workers of a process started with --import tsx', async () => {
  // Node 20 does not hand `--import tsx` on to worker threads: the pool's worker registers tsx.
  assert.ok(process.execArgv.join(' ').includes('tsx'), 'this test runs under node --import tsx');
  const pool = nodePool(new URL('./fixtures/pool-tasks.ts', import.meta.url), { size: 1 });
  try {
    const result = await square(7).run({ executor: pool, store: memoryStore() });
    assert.equal(result.value, 49);
    assert.notEqual(result.threadId, threadId);
  } finally {
    await pool.close();
  }
});

test('a TypeScript tasks module named as its compiled `.js`, as the import names it, loads in the workers', async () => {
  // The README's form: `./pool-tasks.js` is what this file imports (tsx finds pool-tasks.ts) and
  // what it would be once compiled, so the pool must find the same module.
  const pool = nodePool(new URL('./fixtures/pool-tasks.js', import.meta.url), {
    size: 1,
    setup: new URL('./fixtures/pool-setup.js', import.meta.url), // a `.js` that exists stays
  });
  try {
    const result = await square(8).run({ executor: pool, store: memoryStore() });
    assert.equal(result.value, 64);
    assert.notEqual(result.threadId, threadId);
  } finally {
    await pool.close();
  }
});

test('a JavaScript tasks module, given as an absolute path, with a setup module', async () => {
  const tasks = new URL('./fixtures/pool-plain.js', import.meta.url);
  const bare = nodePool(tasks.pathname, { size: 1 });
  const prepared = nodePool(tasks, { size: 1, setup: [new URL('./fixtures/pool-setup.js', import.meta.url)] });
  try {
    assert.equal(await triple(5).run({ executor: bare, store: memoryStore() }), 15);
    assert.equal(await setupSeen().run({ executor: bare, store: memoryStore() }), 'missing');
    assert.equal(await setupSeen().run({ executor: prepared, store: memoryStore() }), 'loaded');
  } finally {
    await Promise.all([bare.close(), prepared.close()]);
  }
});
