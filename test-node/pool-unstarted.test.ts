import assert from 'node:assert/strict';
import { test } from 'node:test';
import { threadId } from 'node:worker_threads';
import {
  AbortError,
  CheckpointError,
  type Executor,
  memoryStore,
  nodePool,
  type PoolExecutor,
  RunFailedError,
  TaskFailedError,
} from 'checkpoint-tool';
import { heard, plain } from './fixtures/pool-ending.js';
import { gated, sumOfSquares } from './fixtures/pool-tasks.js';
import { deferred, recorder } from './helpers.js';

const tasksModule = new URL('./fixtures/pool-tasks.ts', import.meta.url);
const endingModule = new URL('./fixtures/pool-ending.ts', import.meta.url);

/**
 * The pool, taking `concurrency` jobs at once (more than its size: the rest wait in its queue),
 * and a promise that resolves once it has been given `count` jobs. Workers still loading their
 * modules start none of them before the test's next macrotask.
 */
function handing(pool: PoolExecutor, concurrency: number, count: number) {
  const { promise: given, resolve } = deferred();
  let jobs = 0;
  const executor: Executor = {
    concurrency,
    execute(job, context) {
      const result = pool.execute(job, context);
      if (++jobs === count) resolve();
      return result;
    },
  };
  return { executor, given };
}

test('a run cancelled, then its pool closed, rejects as cancelled: the jobs it had not started are skipped', async () => {
  // One job posted to the loading worker, one waiting in the pool's queue.
  const pool = nodePool(tasksModule, { size: 1 });
  const { executor, given } = handing(pool, 2, 2);
  const controller = new AbortController();
  const events = recorder();
  const run = sumOfSquares(2).run({
    executor,
    store: memoryStore(),
    signal: controller.signal,
    onEvent: events.onEvent,
  });
  await given;
  controller.abort();
  const rejected = assert.rejects(run, AbortError);
  await pool.close();
  await rejected;
  assert.deepEqual(events.labels('started'), []);
  assert.deepEqual(events.labels('failed'), []);
  assert.deepEqual(events.labels('skipped').sort(), ['pool.square(1)', 'pool.square(2)', 'pool.sumOfSquares(2)']);
});

test('a run cancelled, then its pool closed while a job runs, rejects as cancelled: that job is skipped, not failed', async () => {
  const pool = nodePool(tasksModule, { size: 1 });
  const controller = new AbortController();
  const events = recorder();
  const { promise: started, resolve } = deferred();
  const store = memoryStore();
  const instance = gated(`never-${Math.random()}`);
  const run = instance.run({
    executor: pool,
    store,
    signal: controller.signal,
    onEvent: (event) => {
      events.onEvent(event);
      if (event.type === 'started') resolve();
    },
  });
  await started;
  controller.abort();
  const rejected = assert.rejects(run, (error: Error) => {
    assert.ok(error instanceof AbortError, `the run rejected with ${error}`);
    return true;
  });
  await pool.close();
  await rejected;
  assert.deepEqual(events.labels('failed'), []);
  assert.deepEqual(events.labels('skipped'), [instance.label]);
  assert.equal(await store.readMeta(instance.task.id, instance.key), undefined);
});

test('a pool closed under a run that was not cancelled fails the jobs it had not started, naming the closing', async () => {
  const pool = nodePool(tasksModule, { size: 2 });
  const { executor, given } = handing(pool, 2, 2);
  const run = sumOfSquares(2).run({ executor, store: memoryStore() });
  await given;
  const outcome = run.catch((e) => e);
  await pool.close();
  const error = await outcome;
  assert.ok(error instanceof RunFailedError, `the run rejected with ${error}`);
  const causes = error.failures.map((failure: TaskFailedError) => String((failure.cause as Error).message)).sort();
  assert.deepEqual(causes, [
    'The pool was closed before pool.square(1) finished',
    'The pool was closed before pool.square(2) finished',
  ]);
});

test('a job posted to a worker that ended between jobs, before starting it, runs on a new worker', async () => {
  const pool = nodePool(endingModule, { size: 1, name: 'ending' });
  try {
    const events = recorder();
    const started = new Map<string, string>();
    const value = await heard('array', 4).run({
      executor: pool,
      store: memoryStore(),
      onEvent: (event) => {
        events.onEvent(event);
        if (event.type === 'started') started.set(event.instance.label, event.worker);
      },
    });
    assert.deepEqual({ sum: value.sum, length: value.length }, { sum: 6, length: 4 });
    assert.notEqual(value.threadId, threadId);
    // Started once, on the worker that replaced the one that ended.
    assert.deepEqual(Object.fromEntries(started), {
      'poolEnding.lastWords("array",4)': 'ending-1',
      'poolEnding.heard("array",4)': 'ending-2',
    });
    assert.deepEqual(events.labels('failed'), []);
  } finally {
    await pool.close();
  }
});

test('a job whose inputs were moved to a worker that ended before starting it fails, saying why it is not given to another', async () => {
  const moving = nodePool(endingModule, { size: 1, name: 'moving' });
  const copying = nodePool(endingModule, { size: 1, name: 'copying', transfer: false });
  try {
    const error = await heard('buffer', 3)
      .run({ executor: moving, store: memoryStore() })
      .catch((e) => e);
    assert.ok(error instanceof TaskFailedError && error.cause instanceof CheckpointError, `rejected with ${error}`);
    assert.equal(
      error.cause.message,
      'moving-1 stopped before starting poolEnding.heard("buffer",3), whose inputs\' buffers had been moved to it (see the pool\'s `transfer` option): it exited with code 0',
    );
    // Copied, the input is still whole here: the job goes to a new worker.
    const value = await heard('buffer', 3).run({ executor: copying, store: memoryStore() });
    assert.equal(value.sum, 3);
  } finally {
    await Promise.all([moving.close(), copying.close()]);
  }
});

test('a job whose workers all end before starting it fails on the second, instead of trying forever', async () => {
  const pool = nodePool(endingModule, {
    size: 1,
    name: 'doomed',
    setup: new URL('./fixtures/pool-end-on-job.ts', import.meta.url),
  });
  try {
    const events = recorder();
    const error = await plain(1)
      .run({ executor: pool, store: memoryStore(), onEvent: events.onEvent })
      .catch((e) => e);
    assert.ok(error instanceof TaskFailedError && error.cause instanceof CheckpointError, `rejected with ${error}`);
    assert.equal(
      error.cause.message,
      'doomed-2 stopped before starting poolEnding.plain(1), as doomed-1 did before it: it exited with code 0',
    );
    // Reported where it failed.
    assert.deepEqual(
      events.events
        .filter((e) => e.type !== 'planned')
        .map((e) => (e.type === 'started' ? `started ${e.worker}` : e.type)),
      ['started doomed-2', 'failed'],
    );
  } finally {
    await pool.close();
  }
});
