import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { nextRun, runAfter } from './demo-page.js';
import { browser, server } from './demo-session.js';
import { chooseGraph, chooseReference, screenshotDir, watchConsole } from './helpers.js';

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
    assert.match((await page.textContent('#no-idb')) ?? '', /for this page only: IndexedDB is unavailable/);
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
