import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { openPoolLab } from './pool-lab-session.js';

describe('webPool in Chromium', { timeout: 120_000 }, () => {
  test('a worker that ends itself with close() fails the job it was running, and the pool goes on', {
    timeout: 30_000,
  }, async () => {
    const { context, page } = await openPoolLab();
    const report = await page.evaluate(async () => {
      const { tasks, pool } = window.poolLab;
      let error: unknown;
      await tasks
        .ends('close')
        .run({ executor: pool })
        .catch((thrown: unknown) => {
          error = thrown;
        });
      const failure = error as Error & { task?: string; cause?: Error };
      const after = await tasks.ends('value').run({ executor: pool });
      await pool.close();
      return { name: failure.name, task: failure.task, cause: failure.cause?.message, after };
    });
    assert.equal(report.name, 'TaskFailedError');
    assert.equal(report.task, 'ends');
    assert.match(
      report.cause ?? '',
      /^worker-1 stopped while computing ends\("close"\): it ended without an error \(it called close\(\)/,
    );
    assert.equal(report.after, 'value', 'a new worker replaced it');
    await context.close();
  });

  test('a job posted to a worker that ends itself between jobs, before starting it, runs on a new worker', {
    timeout: 30_000,
  }, async () => {
    const { context, page } = await openPoolLab();
    const report = await page.evaluate(async () => {
      const { checkpoint, tasks, pool } = window.poolLab;
      const events: string[] = [];
      const value = await tasks.afterEnds('bye').run({
        executor: pool,
        // Stored at once, the first value releases the next job in the task that received it.
        store: checkpoint.memoryStore(),
        onEvent: (event) => {
          if (event.type !== 'planned')
            events.push(`${event.type} ${event.instance.label} ${event.type === 'started' ? event.worker : ''}`.trim());
        },
      });
      await pool.close();
      return { value, events };
    });
    // Not failed as a crash: started once, on the worker that replaced the one that ended.
    assert.deepEqual(report, {
      value: 'after bye',
      events: [
        'started endsNext("bye") worker-1',
        'finished endsNext("bye")',
        'started afterEnds("bye") worker-2',
        'finished afterEnds("bye")',
      ],
    });
    await context.close();
  });

  test('a worker that serves only after an await still gets the jobs posted meanwhile', {
    timeout: 30_000,
  }, async () => {
    const { context, page } = await openPoolLab();
    const values = await page.evaluate(async () => {
      const { tasks, latePool } = window.poolLab;
      const events: string[] = [];
      const value = await tasks.ends('late').run({
        executor: latePool,
        onEvent: (event) => events.push(`${event.type}${event.type === 'started' ? ` ${event.worker}` : ''}`),
      });
      await latePool.close();
      return { value, events };
    });
    assert.deepEqual(values, { value: 'late', events: ['planned', 'started worker-1', 'finished'] });
    await context.close();
  });

  test('so does one that serves after an await with its own scope given as the endpoint', {
    timeout: 30_000,
  }, async () => {
    const { context, page } = await openPoolLab();
    const value = await page.evaluate(async () => {
      const { tasks, lateSelfPool } = window.poolLab;
      // Lost, the early messages would leave the run waiting until the test's timeout.
      const value = await tasks.ends('late').run({ executor: lateSelfPool });
      await lateSelfPool.close();
      return value;
    });
    assert.equal(value, 'late');
    await context.close();
  });

  test('webPool without a create function, with a misspelt option, or whose create returns no Worker, says so', async () => {
    const { context, page } = await openPoolLab();
    const report = await page.evaluate(async () => {
      const { checkpoint, tasks } = window.poolLab;
      const message = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));
      let missing = 'accepted';
      try {
        checkpoint.webPool({} as Parameters<typeof checkpoint.webPool>[0]);
      } catch (error) {
        missing = message(error);
      }
      let misspelt = 'accepted';
      try {
        checkpoint.webPool({ create: () => new Worker(''), workers: 4 } as Parameters<typeof checkpoint.webPool>[0]);
      } catch (error) {
        misspelt = message(error);
      }
      const forgetful = checkpoint.webPool({
        // The braces make the body a block: the Worker is made and dropped.
        create: ((name: string) => {
          new Worker(new URL('pool-lab-worker.js', location.href), { type: 'module', name });
        }) as unknown as (name: string) => Worker,
      });
      const failed = await tasks
        .ends('value')
        .run({ executor: forgetful })
        .then(String, (error: { cause?: unknown }) => message(error.cause));
      await forgetful.close();
      return { missing, misspelt, failed };
    });
    assert.equal(
      report.missing,
      'CheckpointError: webPool(): expected `create` to be a function that makes a Worker, got undefined',
    );
    assert.equal(
      report.misspelt,
      'TaskDefinitionError: webPool(): unknown option `workers`; the options are create, size, name, transfer, cancelGrace',
    );
    assert.equal(
      report.failed,
      "CheckpointError: webPool's `create` returned undefined, not a Worker (does it `return` the new Worker?)",
    );
    await context.close();
  });
});
