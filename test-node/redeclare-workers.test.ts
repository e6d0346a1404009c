// Two different declarations of one task id in one program (two modules naming their tasks alike,
// by mistake): which one holds the id depends on the order the modules load in, which a worker
// need not share with the calling thread.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type Instance, memoryStore, nodePool, TaskDefinitionError, TaskFailedError } from 'checkpoint-tool';
// @ts-expect-error: a plain JavaScript module, without types
import { load as lower } from './fixtures/dup-case-lower.js';
// @ts-expect-error: a plain JavaScript module, without types
import { Load as upper } from './fixtures/dup-case-upper.js';
// @ts-expect-error: a plain JavaScript module, without types
import { load as loadA } from './fixtures/dup-load-a.js';
// @ts-expect-error: a plain JavaScript module, without types
import { load as loadB } from './fixtures/dup-load-b.js';

test('a worker where a task was declared twice, differently, refuses its jobs rather than run the other declaration', async () => {
  // Here b's declaration is the later one, and runs; a's refuses to make instances.
  assert.throws(() => loadA(1), TaskDefinitionError);
  assert.equal(await (loadB(1) as Instance<string>).run({ store: memoryStore() }), 'b(1)');
  const pool = nodePool(new URL('./fixtures/dup-load-worker.js', import.meta.url), { size: 1 });
  const store = memoryStore();
  try {
    // Without the check the worker runs a's factory, the later one there: `a(1)`, stored as b's.
    await assert.rejects((loadB(1) as Instance<string>).run({ executor: pool, store }), (error: unknown) => {
      assert.ok(error instanceof TaskFailedError, String(error));
      assert.ok(error.cause instanceof TaskDefinitionError, String(error.cause));
      assert.match(error.cause.message, /Task `dup\.load` was declared more than once in this thread, differently/);
      assert.match(error.cause.message, /give each task a name or namespace of its own/);
      return true;
    });
    assert.deepEqual(await store.keys('dup.load'), [], 'nothing stored');
  } finally {
    await pool.close();
  }
});

test('a worker where two ids that differ only in case were declared refuses the replaced one with the same message, not as undefined', async () => {
  // Here `dupcase.Load` is the later one; in the worker, `dupcase.load` is, and `dupcase.Load` is
  // no longer found there under its own spelling.
  assert.throws(() => lower(1), TaskDefinitionError);
  const pool = nodePool(new URL('./fixtures/dup-case-worker.js', import.meta.url), { size: 1 });
  const store = memoryStore();
  try {
    await assert.rejects((upper(1) as Instance<string>).run({ executor: pool, store }), (error: unknown) => {
      assert.ok(error instanceof TaskFailedError, String(error));
      assert.ok(error.cause instanceof TaskDefinitionError, String(error.cause));
      assert.match(error.cause.message, /Task `dupcase\.Load` was declared more than once in this thread, differently/);
      return true;
    });
    assert.deepEqual(await store.keys('dupcase.Load'), [], 'nothing stored');
  } finally {
    await pool.close();
  }
});
