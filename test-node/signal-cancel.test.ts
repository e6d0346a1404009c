// Cancelling as a reactive app does, all the time: before a pool's worker has loaded, during
// planning, and many times over on one pool and one signal.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AbortError, type Executor, memoryStore, nodePool } from 'checkpoint-tool';
import { square, untilCancelled } from './fixtures/pool-tasks.js';
import { recorder } from './helpers.js';

const tasksModule = new URL('./fixtures/pool-tasks.ts', import.meta.url);

test('a run cancelled while its worker is still loading never starts the job posted to it; the worker serves on', {
  timeout: 20_000,
}, async () => {
  // Both ignore their signal once started: `square` never looks, `untilCancelled` only waits for it.
  for (const instance of [square(4), untilCancelled('loading')]) {
    const pool = nodePool(tasksModule, { size: 1 });
    try {
      const store = memoryStore();
      const controller = new AbortController();
      // Cancelled as soon as the job is posted to the worker, which is loading.
      const executor: Executor = {
        concurrency: 1,
        execute(job, context) {
          const result = pool.execute(job, context);
          controller.abort(new Error('the page moved on'));
          return result;
        },
      };
      const events = recorder();
      await assert.rejects(
        instance.run({ executor, store, signal: controller.signal, onEvent: events.onEvent }),
        (error: unknown) => error instanceof AbortError && error.cause === controller.signal.reason,
      );
      assert.deepEqual(
        events.events.map((event) => event.type),
        ['planned', 'skipped'],
      );
      assert.deepEqual(await store.keys(instance.task.id), []);
      const workers: string[] = [];
      const value = await square(5).run({
        executor: pool,
        store,
        onEvent: (event) => event.type === 'started' && workers.push(event.worker),
      });
      assert.equal(value.value, 25);
      assert.deepEqual(workers, ['worker-1']);
    } finally {
      await pool.close();
    }
  }
});
