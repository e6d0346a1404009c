import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { after, test } from 'node:test';
import { threadId } from 'node:worker_threads';
import { AbortError, CheckpointError, fsStore, inProcess, memoryStore, nodePool, type RunEvent } from 'checkpoint-tool';
import { allLimited, gated, kinds, meetThenSpin, summary, sumOfSquares } from './fixtures/pool-tasks.js';
import { deferred, recorder, temporaryDir } from './helpers.js';

const tasksModule = new URL('./fixtures/pool-tasks.ts', import.meta.url);
const pool = nodePool(tasksModule, { size: 2 });
after(() => pool.close());

test('a pool computes the same values as the in-process executor', async () => {
  const inWorkers = await summary(3).run({ executor: pool, store: memoryStore() });
  const inMain = await summary(3).run({ executor: inProcess(), store: memoryStore() });
  assert.deepEqual(inWorkers, inMain);
  assert.ok(inWorkers.first instanceof Float64Array);
  const values = await Promise.all([
    kinds(5).run({ executor: pool, store: memoryStore() }),
    kinds(5).run({ store: memoryStore() }),
  ]);
  assert.deepEqual(values[0], values[1]);
});

test('jobs run in worker threads, named in `started` events', async () => {
  const events = recorder();
  const result = await sumOfSquares(6).run({ executor: pool, store: memoryStore(), onEvent: events.onEvent });
  assert.equal(result.value, 1 + 4 + 9 + 16 + 25 + 36);
  const threads = new Set([result.threadId, ...result.from]);
  assert.ok(!threads.has(threadId), 'no job ran on the main thread');
  const workers = new Set(events.events.flatMap((e) => (e.type === 'started' ? [e.worker] : [])));
  assert.equal(events.labels('started').length, 7);
  for (const worker of workers) assert.match(worker, /^worker-[12]$/);
});

test('two CPU-bound jobs run at the same time on two threads', async () => {
  const events: RunEvent[] = [];
  const meeting = `meet-${Math.random()}`;
  const [a, b] = await Promise.all(
    ['a', 'b'].map((who) =>
      meetThenSpin(meeting, who, 2e7).run({ executor: pool, store: memoryStore(), onEvent: (e) => events.push(e) }),
    ),
  );
  assert.ok(a && b);
  // They met (each waited for the other to be running), on two threads, neither the main one.
  assert.notEqual(a.threadId, b.threadId);
  assert.ok(a.threadId !== threadId && b.threadId !== threadId);
  // Both were started before either finished, and their CPU-bound parts overlapped.
  const order = events.filter((e) => e.type === 'started' || e.type === 'finished').map((e) => e.type);
  assert.deepEqual(order, ['started', 'started', 'finished', 'finished']);
  assert.ok(a.start < b.end && b.start < a.end, 'the two CPU-bound parts overlapped');
});

test('the size bounds the parallelism; maxConcurrency still holds per task', async () => {
  assert.equal(pool.size, 2);
  assert.equal(pool.concurrency, 2);
  const fallback = nodePool(tasksModule);
  assert.equal(fallback.size, availableParallelism());
  await fallback.close();
  assert.throws(() => nodePool(tasksModule, { size: 0 }), /`size` to be a whole number from 1 and up, got 0/);
  // From JavaScript: a misspelt option, or one of the wrong kind, is refused, never left unused.
  const untyped = nodePool as (url: URL, options: object) => unknown;
  assert.throws(() => untyped(tasksModule, { workers: 4 }), {
    name: 'TaskDefinitionError',
    message:
      'nodePool(): unknown option `workers`; the options are size, name, transfer, cancelGrace, setup, resourceLimits',
  });
  assert.throws(() => untyped(tasksModule, { size: '2' }), /`size` to be a whole number from 1 and up, got "2"/);
  assert.throws(() => untyped(tasksModule, { transfer: 'no' }), /`transfer` to be a boolean, got "no"/);
  assert.throws(
    () => untyped(tasksModule, { name: 3 }),
    /^CheckpointError: nodePool\(\): expected `name` to be a string, got 3$/,
  );
  assert.throws(
    () => untyped(tasksModule, { size: null }),
    /^CheckpointError: nodePool\(\): expected `size` .* got null$/,
  );
  assert.throws(() => untyped(tasksModule, { cancelGrace: -1 }), /`cancelGrace` to be a number of milliseconds/);
  assert.throws(() => untyped(tasksModule, { cancelGrace: '5' }), /`cancelGrace` to be a number of milliseconds/);

  let running = 0;
  let most = 0;
  const onEvent = (e: RunEvent) => {
    if (e.instance.task.name !== 'limited') return;
    if (e.type === 'started') most = Math.max(most, ++running);
    if (e.type === 'finished') running--;
  };
  const events = recorder();
  await allLimited(4).run({
    executor: pool,
    store: memoryStore(),
    onEvent: (e) => {
      events.onEvent(e);
      onEvent(e);
    },
  });
  assert.equal(events.labels('started').length, 5);
  assert.equal(most, 1);
});

test('the calling thread writes the cache: a later in-process run reuses every result', async () => {
  const store = fsStore({ dir: await temporaryDir() });
  const first = await sumOfSquares(4).run({ executor: pool, store });
  const events = recorder();
  const second = await sumOfSquares(4).run({ store, onEvent: events.onEvent });
  assert.deepEqual(second, first);
  assert.deepEqual(events.labels('started'), []);
  assert.equal(events.labels('cached').length, 5);
});

test('a cancelled run starts none of the jobs still waiting for a worker', async () => {
  const small = nodePool(tasksModule, { size: 1, name: 'solo' });
  try {
    const gate = new BroadcastChannel(`gate-${Math.random()}`);
    const { promise: waiting, resolve } = deferred();
    gate.onmessage = (event: MessageEvent) => event.data === 'waiting' && resolve();
    const workers: string[] = [];
    const blocker = gated(gate.name).run({
      executor: small,
      store: memoryStore(),
      onEvent: (e) => e.type === 'started' && workers.push(e.worker),
    });
    await waiting;
    // The blocker holds the only worker: a job given now waits in the pool's queue.
    const controller = new AbortController();
    let posted = false;
    const queued = small.execute(
      { task: 'pool.square', version: '', key: '[1]', args: [1], inputs: [] },
      { signal: controller.signal, started: () => (posted = true) },
    );
    const events = recorder();
    const run = sumOfSquares(2).run({
      executor: small,
      store: memoryStore(),
      signal: controller.signal,
      onEvent: events.onEvent,
    });
    controller.abort();
    await assert.rejects(queued, AbortError);
    await assert.rejects(run, AbortError);
    assert.equal(posted, false);
    assert.deepEqual(events.labels('started'), []);
    assert.equal(events.labels('skipped').length, 3);

    gate.postMessage('go');
    gate.close();
    assert.notEqual((await blocker).threadId, threadId);
    assert.deepEqual(workers, ['solo-1']);
    assert.equal((await sumOfSquares(2).run({ executor: small, store: memoryStore() })).value, 5);
    await assert.rejects(sumOfSquares(2).run({ executor: small, signal: AbortSignal.abort() }), AbortError);
  } finally {
    await small.close();
  }
});

test('close() rejects running and later jobs, and ends the workers', async () => {
  const closing = nodePool(tasksModule, { size: 1 });
  const { promise: started, resolve } = deferred();
  const running = gated(`never-${Math.random()}`).run({
    executor: closing,
    store: memoryStore(),
    onEvent: (e) => e.type === 'started' && resolve(),
  });
  await started;
  const failed = assert.rejects(running, (error: Error) => {
    assert.ok(error.cause instanceof CheckpointError);
    assert.match(error.cause.message, /pool was closed/);
    return true;
  });
  await closing.close();
  await failed;
  await assert.rejects(sumOfSquares(1).run({ executor: closing, store: memoryStore() }), (error: Error) => {
    assert.match(String((error.cause as Error).message), /^The pool is closed: pool\.square\(1\) cannot run on it$/);
    return true;
  });
  await closing.terminate(); // again: nothing more to do
});
