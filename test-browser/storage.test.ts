import assert from 'node:assert/strict';
import { mkdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { build } from 'vite';
import { nextRun, runAfter } from './demo-page.js';
import { chooseGraph, chooseReference, launch, screenshotDir, serveDemo, watchConsole } from './helpers.js';

let server: Awaited<ReturnType<typeof serveDemo>>;
let browser: Browser;
/** test-browser/idb-lab.ts, bundled as a user's app bundles the library. */
let labBundle: string;

before(async () => {
  await mkdir(screenshotDir, { recursive: true });
  const outDir = join(tmpdir(), `checkpoint-idb-lab-${process.pid}`);
  const bundle = build({
    configFile: false,
    logLevel: 'warn',
    root: import.meta.dirname,
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      lib: { entry: join(import.meta.dirname, 'idb-lab.ts'), formats: ['es'], fileName: 'idb-lab' },
    },
  });
  [server, browser] = await Promise.all([serveDemo(), launch(), bundle]);
  labBundle = await readFile(join(outDir, 'idb-lab.js'), 'utf8');
});
after(async () => {
  await browser?.close();
  await server?.close();
});

interface RoundTrip {
  expected: string;
  actual: string;
  computed: boolean;
  cached: boolean;
}

async function openLab(page: Page): Promise<string[]> {
  await page.goto(`${server.url}lab.html`);
  await page.waitForSelector('body[data-ready="true"]');
  return page.evaluate('window.lab.names') as Promise<string[]>;
}

const roundTrip = (page: Page, name: string) =>
  page.evaluate((sample) => window.lab.roundTrip(sample), name) as Promise<RoundTrip>;

/** The description of a value each kind must show, so that a lossy round trip cannot pass. */
const markers: Record<string, RegExp[]> = {
  date: [/Date\(2024-02-29T12:34:56\.789Z\)/, /Date\(invalid\)/],
  map: [/^Map\{string:"a" => number:1, number:2 => \{"b": \[number:3\]\}, null => string:"null key"\}$/],
  set: [/^Set\{number:1, string:"two", bigint:3, undefined\}$/],
  bigint: [/bigint:-123456789012345678901234567890/, /bigint:18446744073709551616/],
  regexp: [/RegExp\(\/a\+b\*c\?\/giu\)/, /RegExp\(\/x\/y\)/],
  undefined: [/^\{"present": undefined, "list": \[undefined, number:1, undefined\]\}$/],
  'negative-zero': [/^\[number:-0, \{"z": number:-0\}, number:0\]$/],
  'special-numbers': [
    /^\[number:NaN, number:Infinity, number:-Infinity, number:1\.7976931348623157e\+308, number:5e-324\]$/,
  ],
  'typed-arrays': [
    /"f32": Float32Array\[number:1\.5, number:-0, number:NaN, number:Infinity\]/,
    /"bi64": BigInt64Array\[bigint:-9223372036854775808, bigint:0, bigint:9223372036854775807\]/,
    /"bu64": BigUint64Array\[bigint:0, bigint:18446744073709551615\]/,
    /"u8c": Uint8ClampedArray\[number:0, number:128, number:255\]/,
  ],
  'data-view': [/^DataView\[2,3,4,5\]$/],
  'array-buffer': [/^ArrayBuffer\[9,8,7,0,255\]$/],
  'odd-offsets': [/BigInt64Array\[bigint:-1\]/],
  nested: [/Set\{Float64Array\[number:1\.5, number:-0\]/, /BigUint64Array\[bigint:3\]/, /DataView\[0,0,0,0,0,0,0,0\]/],
};

describe('IndexedDB storage in Chromium, through the public API', { timeout: 120_000 }, () => {
  test('round-trips every type superjson stores, across a reload', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    const seen = watchConsole(page);
    const names = await openLab(page);
    assert.deepEqual(names.sort(), Object.keys(markers).sort(), 'every sample has its markers');

    const firstRun = new Map<string, string>();
    for (const name of names) {
      const stored = await roundTrip(page, name);
      assert.ok(stored.computed && !stored.cached, `${name} is computed on the first run`);
      assert.equal(stored.actual, stored.expected, `${name}: the value returned by the run`);
      firstRun.set(name, stored.actual);
    }

    // A new page: every value now comes from IndexedDB and is decoded from its bytes.
    await openLab(page);
    for (const name of names) {
      const loaded = await roundTrip(page, name);
      assert.ok(loaded.cached && !loaded.computed, `${name} is read from IndexedDB after the reload`);
      assert.equal(loaded.actual, loaded.expected, `${name} round-trips`);
      assert.equal(loaded.actual, firstRun.get(name));
      for (const marker of markers[name] ?? []) assert.match(loaded.actual, marker, name);
    }
    assert.deepEqual(seen.errors, []);
    await context.close();
  });

  test('stores compressed results smaller, and reads them back equal', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    await openLab(page);
    type Stored = { encoding: string; size: number; computed: boolean; cached: boolean; value: string };
    type Report = { expected: string; raw: Stored; packed: Stored; packedHard: Stored };
    const compression = () => page.evaluate('window.lab.compression()') as Promise<Report>;

    const first = await compression();
    assert.equal(first.raw.encoding, 'raw');
    assert.equal(first.packed.encoding, 'zlib');
    assert.equal(first.packedHard.encoding, 'zlib');
    assert.ok(first.raw.size > 150_000, `the raw entry holds the value: ${first.raw.size} bytes`);
    assert.ok(first.packed.size * 20 < first.raw.size, `zlib: ${first.packed.size} of ${first.raw.size} bytes`);
    assert.ok(first.packedHard.size <= first.packed.size, 'level 9 is no larger than level 6');
    for (const stored of [first.raw, first.packed, first.packedHard]) {
      assert.ok(stored.computed);
      assert.equal(stored.value, first.expected);
    }

    await openLab(page);
    const again = await compression();
    for (const stored of [again.raw, again.packed, again.packedHard]) {
      assert.ok(stored.cached && !stored.computed, 'read from IndexedDB after a reload');
      assert.equal(stored.value, again.expected, 'decompressed and decoded equal');
    }
    await context.close();
  });

  test('falls back to memory, with a warning, when IndexedDB is unavailable', async () => {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.addInitScript(() => {
      delete (window as { indexedDB?: unknown }).indexedDB;
    });
    const page = await context.newPage();
    const seen = watchConsole(page);
    await page.goto(`${server.url}#n=10&k=4&delay=0`);
    const first = await nextRun(page, 0);
    assert.equal(await page.evaluate(() => typeof window.indexedDB), 'undefined');
    assert.equal(first.value, chooseReference(10, 4).toString());
    assert.equal(first.counters.computed, chooseGraph(10, 4).size);
    assert.ok(
      seen.warnings.some((warning) => /IndexedDB is unavailable/.test(warning)),
      `a warning is logged, got ${JSON.stringify(seen.warnings)}`,
    );
    assert.ok(await page.isVisible('#no-idb'), 'the page says results are kept in memory');
    await page.screenshot({ path: `${screenshotDir}demo-no-indexeddb.png`, fullPage: true });

    // Cached in memory for the life of the page: a rerun reads everything from it...
    const rerun = await runAfter(page, () => page.click('#compute'));
    assert.equal(rerun.counters.cached, chooseGraph(10, 4).size);
    // ...and a reload starts from nothing.
    await page.reload();
    const reloaded = await nextRun(page, 0);
    assert.equal(reloaded.counters.computed, chooseGraph(10, 4).size);
    await context.close();
  });
});

/** A secure origin (Web Locks exist), served by the test itself through request interception. */
const labOrigin = 'http://localhost:9/';

/** A new browser context whose `origin` serves the lab page; `init` runs in each page first. */
async function labContext(origin = labOrigin, init?: () => void): Promise<BrowserContext> {
  const context = await browser.newContext();
  // tsx keeps the names of functions in the tests' page.evaluate callbacks through esbuild's __name.
  await context.addInitScript('globalThis.__name = (target) => target;');
  if (init) await context.addInitScript(init);
  await context.route(`${origin}**`, (route) =>
    route.request().url().endsWith('.js')
      ? route.fulfill({ contentType: 'text/javascript', body: labBundle })
      : route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><script type="module" src="idb-lab.js"></script>',
        }),
  );
  return context;
}

async function openIdbLab(context: BrowserContext, origin = labOrigin): Promise<Page> {
  const page = await context.newPage();
  await page.goto(origin);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return page;
}

/** Above Chromium's largest IndexedDB record (133,169,152 serialized bytes). */
const tooLarge = 130 * 2 ** 20;

describe('idbStore in Chromium: failures, upgrades and fallbacks', { timeout: 120_000 }, () => {
  test('a record IndexedDB refuses fails its own write, with a clear error, not those batched with it', async () => {
    const context = await labContext();
    const page = await openIdbLab(context);
    const report = await page.evaluate(async (bigSize) => {
      const store = window.checkpoint.idbStore({ dbName: 'batched' });
      const entry = (key: string, bytes: Uint8Array) => ({
        meta: {
          format: 1,
          key,
          version: '',
          stamp: key,
          inputs: [],
          encoding: 'raw',
          size: bytes.length,
          created: 0,
        } as const,
        value: [bytes],
      });
      const keys = Array.from({ length: 20 }, (_, i) => `[${i}]`);
      // Issued in one tick: one batched transaction, the oversized record in the middle of it.
      const writes = keys.map((key) => store.write('t', key, entry(key, new Uint8Array(64).fill(7))));
      writes.splice(10, 0, store.write('t', '["big"]', entry('["big"]', new Uint8Array(bigSize))));
      const settled = await Promise.allSettled(writes);
      const big = settled[10] as PromiseRejectedResult;
      return {
        statuses: settled.map((result) => result.status),
        error: big.reason instanceof Error ? `${big.reason.name}: ${big.reason.message}` : String(big.reason),
        stored: (await store.keys('t')).sort(),
        value: [...((await store.readValue('t', '[3]')) ?? [])],
      };
    }, tooLarge);
    assert.deepEqual(
      report.statuses,
      report.statuses.map((_, i) => (i === 10 ? 'rejected' : 'fulfilled')),
      `only the oversized write fails: ${report.error}`,
    );
    assert.match(report.error, /IndexedDB/);
    assert.match(report.error, /t\("big"\)/, 'the error names the entry');
    assert.match(report.error, /136,314,880 bytes/, 'and its size');
    assert.match(report.error, /compress/, 'and suggests compressing it');
    assert.doesNotMatch(report.error, /InvalidStateError/);
    assert.equal(report.stored.length, 20, 'the small entries are stored');
    assert.ok(!report.stored.includes('["big"]'));
    assert.deepEqual(report.value, new Array(64).fill(7));
    await context.close();
  });

  test('a run storing a value IndexedDB refuses fails that instance with the reason as cause', async () => {
    const context = await labContext();
    const page = await openIdbLab(context);
    const failure = await page.evaluate(async (bigSize) => {
      const { task } = window.checkpoint;
      const sized = task('sized', (size: number) => () => new Uint8Array(size));
      try {
        await sized(bigSize).run();
        return undefined;
      } catch (error) {
        const { name, message, cause } = error as Error;
        return { name, message, cause: cause instanceof Error ? `${cause.name}: ${cause.message}` : String(cause) };
      }
    }, tooLarge);
    assert.equal(failure?.name, 'TaskFailedError');
    assert.match(failure?.cause ?? '', /IndexedDB refused.*sized\(136314880\).*compress/s);
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
    const value = await page.evaluate(() => {
      const triple = window.checkpoint.task('triple', (x: number) => () => 3 * x);
      return triple(5).run();
    });
    assert.equal(value, 15);
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
    const value = await page.evaluate(() => {
      const half = window.checkpoint.task('half', (x: number) => () => x / 2);
      return half(5).run();
    });
    assert.equal(value, 2.5);
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
