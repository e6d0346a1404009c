import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { watchConsole } from './helpers.js';
import { labContext, labOrigin, openIdbLab } from './idb-lab-session.js';

describe('idbStore in Chromium: failures, upgrades and fallbacks', { timeout: 120_000 }, () => {
  test("a record IndexedDB refuses fails its own write, with the browser's reason, not those batched with it", async () => {
    const context = await labContext();
    const page = await openIdbLab(context);
    const report = await page.evaluate(async () => {
      const store = window.checkpoint.idbStore({ dbName: 'batched' });
      const entry = (key: string, extra?: unknown) => ({
        meta: {
          format: 1,
          key,
          version: '',
          stamp: key,
          inputs: [],
          encoding: 'raw',
          size: 64,
          created: 0,
          ...(extra === undefined ? {} : { extra }),
        } as const,
        value: [new Uint8Array(64).fill(7)],
      });
      const keys = Array.from({ length: 20 }, (_, i) => `[${i}]`);
      // Issued in one tick: one batched transaction, a record the browser cannot store in the middle of it.
      const writes = keys.map((key) => store.write('t', key, entry(key)));
      writes.splice(
        10,
        0,
        store.write(
          't',
          '["bad"]',
          entry('["bad"]', () => 0),
        ),
      );
      const settled = await Promise.allSettled(writes);
      const bad = settled[10] as PromiseRejectedResult;
      return {
        statuses: settled.map((result) => result.status),
        error: bad.reason instanceof Error ? `${bad.reason.name}: ${bad.reason.message}` : String(bad.reason),
        stored: (await store.keys('t')).sort(),
        value: [...((await store.readValue('t', '[3]'))?.value ?? [])],
      };
    });
    assert.deepEqual(
      report.statuses,
      report.statuses.map((_, i) => (i === 10 ? 'rejected' : 'fulfilled')),
      `only the refused write fails: ${report.error}`,
    );
    assert.match(report.error, /^DataCloneError/);
    assert.equal(report.stored.length, 20, 'the other entries are stored');
    assert.ok(!report.stored.includes('["bad"]'));
    assert.deepEqual(report.value, new Array(64).fill(7));
    await context.close();
  });

  test('opens a store missing from an existing database by upgrading it, also under another open connection', async () => {
    const context = await labContext();
    const page = await openIdbLab(context);
    const report = await page.evaluate(async () => {
      const { idbStore } = window.checkpoint;
      const entry = (key: string) => ({
        meta: { format: 1, key, version: '', stamp: key, inputs: [], encoding: 'raw', size: 1, created: 0 } as const,
        value: [Uint8Array.of(1)],
      });
      const entries = idbStore({ dbName: 'upgraded' });
      await entries.write('t', '[1]', entry('[1]'));
      // The database exists, without a 'custom' store; `entries` keeps its connection open.
      const custom = idbStore({ dbName: 'upgraded', storeName: 'custom' });
      await custom.write('t', '[2]', entry('[2]'));
      await entries.write('t', '[3]', entry('[3]'));
      return { custom: await custom.keys('t'), entries: (await entries.keys('t')).sort() };
    });
    assert.deepEqual(report, { custom: ['[2]'], entries: ['[1]', '[3]'] });
    await context.close();
  });

  test('the default store adds its object store to a database named checkpoint made by other code', async () => {
    const context = await labContext(labOrigin, () => {
      const request = indexedDB.open('checkpoint', 3);
      request.onupgradeneeded = () => request.result.createObjectStore('other');
      request.onsuccess = () => request.result.close();
    });
    const page = await openIdbLab(context);
    const seen = watchConsole(page);
    const run = () =>
      page.evaluate(async () => {
        const double = window.checkpoint.task('double', (x: number) => () => 2 * x);
        const events: string[] = [];
        const value = await double(21).run({ onEvent: (event) => events.push(event.type) });
        return { value, events };
      });
    assert.deepEqual((await run()).events.includes('finished'), true);
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    const again = await run();
    assert.equal(again.value, 42);
    assert.ok(again.events.includes('cached') && !again.events.includes('started'), 'read from IndexedDB');
    assert.deepEqual(seen.warnings, []);
    await context.close();
  });

  test('falls back to memory, with a warning, when IndexedDB never opens', { timeout: 30_000 }, async () => {
    const context = await labContext(labOrigin, () => {
      // As a Safari bug once did: a request that never succeeds nor fails.
      IDBFactory.prototype.open = () => new EventTarget() as IDBOpenDBRequest;
    });
    const page = await openIdbLab(context);
    const seen = watchConsole(page);
    const { value, status } = await page.evaluate(async () => {
      const triple = window.checkpoint.task('triple', (x: number) => () => 3 * x);
      return { value: await triple(5).run(), status: await window.checkpoint.defaultStoreStatus() };
    });
    assert.equal(value, 15);
    assert.deepEqual(status, { kind: 'memory', persistent: false, reason: 'IndexedDB did not open within 5 s' });
    assert.ok(
      seen.warnings.some((warning) => /IndexedDB did not open within \d+ s.*memory/.test(warning)),
      `a warning says why: ${JSON.stringify(seen.warnings)}`,
    );
    await context.close();
  });

  test('falls back to memory with a warning saying why IndexedDB failed to open', async () => {
    const context = await labContext(labOrigin, () => {
      IDBFactory.prototype.open = () => {
        const request = {
          error: new DOMException('The user denied it', 'SecurityError'),
        } as unknown as IDBOpenDBRequest;
        setTimeout(() => request.onerror?.(new Event('error')));
        return request;
      };
    });
    const page = await openIdbLab(context);
    const seen = watchConsole(page);
    const { value, status } = await page.evaluate(async () => {
      const half = window.checkpoint.task('half', (x: number) => () => x / 2);
      return { value: await half(5).run(), status: await window.checkpoint.defaultStoreStatus() };
    });
    assert.equal(value, 2.5);
    assert.deepEqual(status, {
      kind: 'memory',
      persistent: false,
      reason: 'IndexedDB failed to open (SecurityError: The user denied it)',
    });
    assert.ok(
      seen.warnings.some((warning) =>
        /IndexedDB failed to open \(SecurityError: The user denied it\); results are cached in memory only/.test(
          warning,
        ),
      ),
      JSON.stringify(seen.warnings),
    );
    await context.close();
  });

  test('waits for an IndexedDB that opens slowly, and uses it', async () => {
    const context = await labContext(labOrigin, () => {
      // Every open succeeds 2 s late (a busy disk, say).
      const open = IDBFactory.prototype.open;
      IDBFactory.prototype.open = function (this: IDBFactory, ...args: Parameters<IDBFactory['open']>) {
        const request = open.apply(this, args);
        request.addEventListener('success', (event) => {
          if (!event.isTrusted) return;
          event.stopImmediatePropagation();
          setTimeout(() => request.dispatchEvent(new Event('success')), 2_000);
        });
        return request;
      };
    });
    const page = await openIdbLab(context);
    const seen = watchConsole(page);
    const run = () =>
      page.evaluate(async () => {
        const square = window.checkpoint.task('square', (x: number) => () => x * x);
        const events: string[] = [];
        await square(9).run({ onEvent: (event) => events.push(event.type) });
        return events;
      });
    assert.ok((await run()).includes('started'));
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    assert.ok((await run()).includes('cached'), 'stored in IndexedDB, read after a reload');
    const status = await page.evaluate(() => window.checkpoint.defaultStoreStatus());
    assert.deepEqual(status, { kind: 'indexeddb', persistent: true });
    assert.deepEqual(seen.warnings, []);
    await context.close();
  });

  test('warns once where Web Locks are missing (not a secure context)', async () => {
    const insecure = 'http://checkpoint-lab.test/';
    const context = await labContext(insecure);
    const page = await openIdbLab(context, insecure);
    const seen = watchConsole(page);
    const locks = await page.evaluate(async () => {
      const { idbStore, task } = window.checkpoint;
      const store = idbStore({ dbName: 'insecure' });
      const add = task('add', (x: number) => () => x + 1);
      await add(1).run({ store });
      await add(2).run({ store });
      await add(3).run({ store: idbStore({ dbName: 'insecure-too' }) });
      return typeof navigator.locks;
    });
    assert.equal(locks, 'undefined', 'plain http on another host has no Web Locks');
    const warnings = seen.warnings.filter((warning) => /Web Locks/.test(warning));
    assert.equal(warnings.length, 1, JSON.stringify(seen.warnings));
    assert.match(warnings[0] ?? '', /secure context.*compute/);
    await context.close();
  });
});
