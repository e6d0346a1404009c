import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { inProcess, memoryStore, nodePool, SerializationError, serializer, TaskFailedError } from 'checkpoint-tool';
import { leaky, norm, Point, point, Secret, scaled, shapes, Ticket, ticket } from './fixtures/pool-tasks.js';
import { recorder } from './helpers.js';

// Values that structured clone would change cross threads as the cache stores them: the pool's
// results and inputs are what an in-process run computes and reads back.
const tasksModule = new URL('./fixtures/pool-tasks.ts', import.meta.url);
const pool = nodePool(tasksModule, { size: 1 });
after(() => pool.close());

test('a result holding instances of a registered class arrives as them, and is stored so', async () => {
  const store = memoryStore();
  const inWorker = await shapes(2).run({ executor: pool, store });
  assert.notEqual(inWorker.threadId, threadId);
  assert.ok(inWorker.at instanceof Point && inWorker.byName.get('origin') instanceof Point);
  assert.equal(inWorker.path[1]?.norm(), Math.hypot(2, 2));
  assert.equal(Object.getPrototypeOf(inWorker.bare), null);
  assert.ok(inWorker.floats instanceof Float64Array);
  assert.ok(inWorker.failure instanceof RangeError);
  assert.equal(inWorker.failure.code, 'E_GRID');
  // The same value as in process, prototypes included (deepStrictEqual compares them).
  const inMain = await shapes(2).run({ executor: inProcess(), store: memoryStore() });
  assert.deepEqual({ ...inWorker, threadId }, { ...inMain, threadId });

  // What the pool's run stored reads back as the class in a later in-process run.
  const events = recorder();
  const cached = await shapes(2).run({ store, onEvent: events.onEvent });
  assert.deepEqual(events.labels('cached'), [shapes(2).label]);
  assert.ok(cached.at instanceof Point);
  assert.deepEqual(cached, inWorker);
});

test('a result the cache cannot store fails its instance as in process, and nothing is stored', async () => {
  for (const [how, path] of [
    ['secret', /^value\.owner\.secret is an instance of Secret, which superjson does not know/],
    ['buffer', /^value\.bytes is an instance of Buffer, a subclass of Uint8Array/],
  ] as const) {
    const stores = [memoryStore(), memoryStore()];
    const [inWorker, inMain] = await Promise.all(
      [pool, inProcess()].map((executor, i) =>
        leaky(how)
          .run({ executor, store: stores[i] })
          .then(
            () => assert.fail(`leaky(${how}) was stored`),
            (error: unknown) => error,
          ),
      ),
    );
    assert.ok(inWorker instanceof TaskFailedError && inMain instanceof TaskFailedError);
    assert.ok(inWorker.cause instanceof SerializationError && inMain.cause instanceof SerializationError);
    assert.match(inWorker.cause.message, path);
    if (how === 'secret')
      assert.match(
        inWorker.cause.message,
        /in this thread: .* in every thread \(with a worker pool, in the module that defines the tasks/,
      );
    assert.equal(inWorker.cause.message, inMain.cause.message);
    assert.equal(inWorker.message, inMain.message);
    for (const store of stores) assert.equal(await store.readMeta(leaky.id, leaky(how).key), undefined);
  }
});

test('an input holding a registered class instance arrives in the worker as one', async () => {
  // Computed in process and read back from the cache, then sent to a worker.
  const store = memoryStore();
  await point(3).run({ store });
  const events = recorder();
  const fromCache = await norm(3).run({ executor: pool, store, onEvent: events.onEvent });
  assert.deepEqual(events.labels('cached'), [point(3).label]);
  assert.deepEqual(fromCache, { threadId: fromCache.threadId, isPoint: true, norm: 5 });
  assert.notEqual(fromCache.threadId, threadId);
  // Computed by a worker in the same run, then sent to a worker again.
  const inRun = await norm(5).run({ executor: pool, store: memoryStore() });
  assert.deepEqual(inRun, { threadId: inRun.threadId, isPoint: true, norm: Math.hypot(5, 6) });
});

test('in one job, an input holding a class crosses encoded while a released typed array is moved', async () => {
  const p = new Point(2, 3);
  const v = Float64Array.from({ length: 2000 }, (_, i) => i % 2);
  const job = { task: scaled.id, version: '', key: scaled(2).key, args: [2], inputs: [p, v] };
  const result = await pool.execute(job, { released: [true, true] });
  assert.deepEqual(result, { isPoint: true, typed: true, sum: 2 * 1000 });
  assert.equal(v.buffer.byteLength, 0, 'the released typed array was moved');
  assert.deepEqual(p, new Point(2, 3), 'the encoded input is left as it was');
});

test('an input the cache cannot store fails its job, naming the input, before it reaches a worker', async () => {
  const job = { task: norm.id, version: '', key: norm(1).key, args: [1], inputs: [{ owner: new Secret('s1') }] };
  await assert.rejects(pool.execute(job, {}), (error: Error) => {
    assert.ok(error instanceof SerializationError);
    assert.match(
      error.message,
      /^Input 0 of pool\.norm\(1\) cannot be sent to its worker: .*value\.owner is an instance of Secret/,
    );
    return true;
  });
  assert.equal((await norm(4).run({ executor: pool, store: memoryStore() })).norm, Math.hypot(4, 5));
});

test('a worker whose modules do not register a class fails the job that sends it one, saying so', async () => {
  const plain = nodePool(new URL('./fixtures/pool-plain.js', import.meta.url), { size: 1 });
  try {
    const job = { task: 'plain.triple', version: '', key: '[1]', args: [1], inputs: [new Point(1, 2)] };
    await assert.rejects(plain.execute(job, {}), (error: Error) => {
      assert.ok(error instanceof SerializationError);
      assert.match(error.message, /^Input 0 of plain\.triple\(1\) cannot be decoded in its worker: .*pool\.Point/);
      assert.match(error.message, /must be registered in the workers too/);
      return true;
    });
  } finally {
    await plain.close();
  }
});

test('a result of a class registered in the calling thread only says to register it where the workers load it', async () => {
  serializer.registerClass(Ticket, { identifier: 'pool.Ticket' });
  const error = await ticket(1)
    .run({ executor: pool, store: memoryStore() })
    .then(
      () => assert.fail('ticket(1) was stored'),
      (thrown: unknown) => thrown,
    );
  assert.ok(error instanceof TaskFailedError && error.cause instanceof SerializationError);
  assert.match(error.cause.message, /^value is an instance of Ticket, which superjson does not know/);
  assert.match(error.cause.message, /in the module that defines the tasks, which each worker loads/);
});
