import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { type Executor, inProcess, type Job, memoryStore, nodePool, SerializationError } from 'checkpoint-tool';
import { keptTable, sumAndMax, total } from './fixtures/pool-tasks.js';

const tasksModule = new URL('./fixtures/pool-tasks.ts', import.meta.url);
const pool = nodePool(tasksModule, { size: 1 });
after(() => pool.close());

/** The job of `total(n)`, whose inputs are the values of `vector(n)` and `vector(n + 1)`. */
function totalJob(n: number, inputs: unknown[]): Job {
  return { task: 'pool.total', version: '', key: `[${n}]`, args: [n], inputs };
}

const vector = (n: number) => Float64Array.from({ length: n * 1000 }, (_, i) => i % n);
const expected = (n: number) => ({
  sum: vector(n).reduce((s, x) => s + x, 0) + vector(n + 1).reduce((s, x) => s + x, 0),
  typed: true,
});
const detached = (view: ArrayBufferView) => view.buffer.byteLength === 0;

test('inputs the run releases are moved to the worker; the others are copied', async () => {
  const [a, b] = [vector(3), vector(4)];
  const done = pool.execute(totalJob(3, [a, b]), { released: [false, true] });
  assert.ok(!detached(a), 'an input still needed by the run is copied');
  assert.ok(detached(b), 'a released input is moved');
  assert.deepEqual(await done, expected(3));
});

test('a view into part of a larger buffer is copied; a buffer given twice is moved once', async () => {
  const backing = new Float64Array(10_000);
  backing.set(vector(3), 100);
  const part = backing.subarray(100, 100 + 3000);
  const b = vector(4);
  assert.deepEqual(await pool.execute(totalJob(3, [part, b]), { released: [true, true] }), expected(3));
  assert.ok(!detached(part) && detached(b));

  const c = vector(3);
  const twice = await pool.execute(totalJob(3, [c, c]), { released: [true, true] });
  assert.equal((twice as { sum: number }).sum, 2 * vector(3).reduce((s, x) => s + x, 0));
  assert.ok(detached(c));
});

test('results are moved out of the worker, unless `transfer` is off', async () => {
  // The worker's module keeps the table it returns: moving it leaves the worker a detached one.
  const first = await keptTable(1).run({ executor: pool, store: memoryStore() });
  assert.deepEqual([...first.table], [1, 2, 3, 4]);
  await assert.rejects(keptTable(2).run({ executor: pool, store: memoryStore() }), (error: Error) => {
    assert.ok(error.cause instanceof SerializationError);
    assert.match(error.cause.message, /moved away: see the pool's `transfer` option/);
    return true;
  });

  const copying = nodePool(tasksModule, { size: 1, transfer: false });
  try {
    const a = vector(3);
    await copying.execute(totalJob(3, [a, vector(4)]), { released: [true, true] });
    assert.ok(!detached(a));
    for (const call of [1, 2]) {
      const { table } = await keptTable(call).run({ executor: copying, store: memoryStore() });
      assert.deepEqual([...table], [1, 2, 3, 4]);
    }
  } finally {
    await copying.close();
  }
});

test('typed arrays flow through a graph on the pool as they do in process', async () => {
  const inWorkers = await total(5).run({ executor: pool, store: memoryStore() });
  const inMain = await total(5).run({ executor: inProcess(), store: memoryStore() });
  assert.deepEqual(inWorkers, inMain);
  assert.deepEqual(inWorkers, expected(5));
  // Again from the cache: the inputs are now views into the stored entries, and must stay intact.
  const store = memoryStore();
  await total(6).run({ executor: pool, store });
  for (let i = 0; i < 2; i++) {
    await total(6).clear({ store });
    assert.deepEqual(await total(6).run({ executor: pool, store }), expected(6));
  }
});

test('in a run, an input is moved to the last instance that needs it, and copied to the others', async () => {
  // An executor that tells, for each job, which inputs were moved away once it was posted.
  const moved = new Map<string, boolean[]>();
  const watching: Executor = {
    concurrency: pool.concurrency,
    execute(job, context) {
      const done = pool.execute(job, context);
      moved.set(
        job.task,
        job.inputs.map((input) => ArrayBuffer.isView(input) && detached(input)),
      );
      return done;
    },
  };
  const result = await sumAndMax(4).run({ executor: watching, store: memoryStore() });
  assert.deepEqual(result, { sum: 1000 * 6, max: 3 });
  // The pool has one worker, so the two dependents of vector(4) run one after the other.
  const [first, second] = ['pool.sumOf', 'pool.maxOf'].map((id) => moved.get(id)?.[0]);
  assert.deepEqual([first, second].sort(), [false, true]);
});
