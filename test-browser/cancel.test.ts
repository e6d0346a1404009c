// A computation's `currentSignal()` in Chromium: a run cancelled stops the fetch it awaits, in a
// Web Worker of a pool and in process, and the worker gets the reason the page gave.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import type { Executor } from 'checkpoint-tool';
import type { BrowserContext, Page } from 'playwright-core';
import { labSession, origin } from './lab-session.js';

const cancelContext = labSession(
  'cancel-lab',
  {
    'cancel-lab': join(import.meta.dirname, 'cancel-lab.ts'),
    'cancel-lab-worker': join(import.meta.dirname, 'cancel-lab-worker.ts'),
  },
  'cancel-lab',
);

/**
 * A new page on the lab, whose requests under `held/` the server receives and never answers:
 * `arrived` resolves with the first one's path.
 */
async function openCancelLab(): Promise<{ context: BrowserContext; page: Page; arrived: Promise<string> }> {
  const context = await cancelContext();
  let heard!: (path: string) => void;
  const arrived = new Promise<string>((resolve) => {
    heard = resolve;
  });
  // Registered last, so tried first.
  await context.route(`${origin}held/**`, (route) => heard(new URL(route.request().url()).pathname));
  const page = await context.newPage();
  await page.goto(origin);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return { context, page, arrived };
}

describe('currentSignal() in Chromium', { timeout: 60_000 }, () => {
  test('a fetch in a Web Worker stops when the run is cancelled: skipped, nothing stored in IndexedDB, the worker serves on', async () => {
    const { context, page, arrived } = await openCancelLab();
    await page.evaluate(() => {
      const { checkpoint, tasks, pool, start } = window.cancelLab;
      start(tasks.held('held/worker'), { executor: pool, store: checkpoint.idbStore({ dbName: 'cancel-worker' }) });
    });
    assert.equal(await arrived, '/held/worker');
    const report = await page.evaluate(async () => {
      const { checkpoint, tasks, pool, cancel, settled } = window.cancelLab;
      cancel(new Error('the page moved on'));
      const run = await settled();
      const store = checkpoint.idbStore({ dbName: 'cancel-worker' });
      const next: string[] = [];
      const value = await tasks.quick(1).run({
        executor: pool,
        store,
        onEvent: (event) => event.type === 'started' && next.push(event.worker),
      });
      return { run, stored: await store.keys('held'), next, value };
    });
    assert.deepEqual(report.run.error, { name: 'AbortError', message: 'The run was cancelled', causeIsReason: true });
    assert.deepEqual(report.run.events, [
      'planned held("held/worker")',
      'started held("held/worker") worker-1',
      'skipped held("held/worker")',
    ]);
    assert.deepEqual(report.stored, []);
    // The same worker took the next job: it was not ended to stop the fetch.
    assert.deepEqual(report.next, ['worker-1']);
    assert.deepEqual(report.value, { n: 1, where: 'worker-1' });
    await context.close();
  });

  test('a fetch in process stops when the run is cancelled: skipped, nothing stored in IndexedDB', async () => {
    const { context, page, arrived } = await openCancelLab();
    await page.evaluate(() => {
      const { checkpoint, tasks, start } = window.cancelLab;
      start(tasks.held('held/main'), { store: checkpoint.idbStore({ dbName: 'cancel-main' }) });
    });
    assert.equal(await arrived, '/held/main');
    const report = await page.evaluate(async () => {
      const { checkpoint, cancel, settled } = window.cancelLab;
      cancel();
      const run = await settled();
      return { run, stored: await checkpoint.idbStore({ dbName: 'cancel-main' }).keys('held') };
    });
    assert.deepEqual(report.run.error, { name: 'AbortError', message: 'The run was cancelled', causeIsReason: true });
    assert.deepEqual(report.run.events, [
      'planned held("held/main")',
      'started held("held/main") main',
      'skipped held("held/main")',
    ]);
    assert.deepEqual(report.stored, []);
    await context.close();
  });

  test('the reason the page cancels with reaches the worker’s computation looking the same: an error of its own, or the default DOMException', async () => {
    const { context, page } = await openCancelLab();
    const seen = await page.evaluate(async () => {
      const { checkpoint, tasks, pool, PageMovedOn, start, started, cancel, reason, settled } = window.cancelLab;
      const store = checkpoint.memoryStore();
      const seen = [];
      for (const given of [new PageMovedOn('the page moved on', 'to /next'), undefined]) {
        const tag = given === undefined ? 'default' : 'custom';
        start(tasks.reasonSeen(tag), { executor: pool, store });
        await started();
        cancel(given);
        const run = await settled();
        // It finished anyway, with what it saw: stored, as a computation that finishes is.
        const cached = await tasks.reasonSeen(tag).run({ store });
        seen.push({
          run: run.error?.name,
          where: cached.where,
          worker: cached.reason,
          page: tasks.describeReason(reason()),
        });
      }
      return seen;
    });
    assert.equal(seen.length, 2);
    for (const { run, where, worker, page } of seen) {
      assert.equal(run, 'AbortError');
      assert.equal(where, 'worker-1');
      assert.deepEqual(worker, page);
    }
    assert.equal(seen[0]?.page.name, 'PageMovedOn');
    assert.equal(seen[0]?.page.detail, 'to /next');
    assert.deepEqual([seen[1]?.page.isDomException, seen[1]?.page.name, seen[1]?.page.code], [true, 'AbortError', 20]);
    await context.close();
  });

  test('a run cancelled while its worker is still loading never starts the job posted to it', {
    timeout: 20_000,
  }, async () => {
    const { context, page } = await openCancelLab();
    const report = await page.evaluate(async () => {
      const { checkpoint, tasks, pool } = window.cancelLab;
      const controller = new AbortController();
      // Cancelled as soon as the job is posted to the worker the pool is starting.
      const executor: Executor = {
        concurrency: 1,
        execute(job, context) {
          const result = pool.execute(job, context);
          controller.abort(new Error('the page moved on'));
          return result;
        },
      };
      const store = checkpoint.idbStore({ dbName: 'cancel-loading' });
      const events: string[] = [];
      const error = await tasks
        .held('held/loading')
        .run({ executor, store, signal: controller.signal, onEvent: (event) => events.push(event.type) })
        .then(String, (thrown: Error) => thrown.name);
      return { error, events, stored: await store.keys('held') };
    });
    assert.deepEqual(report, { error: 'AbortError', events: ['planned', 'skipped'], stored: [] });
    await context.close();
  });
});
