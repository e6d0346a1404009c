import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compute, deleteValues, nextRun, runAfter } from './demo-page.js';
import { browser, openDemo, server } from './demo-session.js';
import {
  chooseDownstream,
  chooseGraph,
  chooseReference,
  screenshotDir,
  serveDemo,
  sorted,
  watchConsole,
} from './helpers.js';

describe('the choose(n, k) demo', { timeout: 150_000 }, () => {
  test('answers choose(n, k) for several (n, k), exactly beyond 2^53', async () => {
    const { context, page, seen } = await openDemo('n=4&k=2&delay=0');
    const first = await nextRun(page, 0);
    assert.equal(first.value, '6');
    for (const [n, k] of [
      [0, 0],
      [1, 1],
      [7, 0],
      [9, 4],
      [20, 10],
      [60, 30],
      [64, 20],
    ] as const) {
      const shown = await compute(page, n, k);
      assert.equal(shown.value, chooseReference(n, k).toString(), `choose(${n}, ${k})`);
      assert.equal(shown.counters.total, chooseGraph(n, k).size, `instances of choose(${n}, ${k})`);
      assert.equal(shown.error, undefined);
    }
    assert.match((await page.textContent('#result')) ?? '', /^choose\(64, 20\) = 19,619,725,782,651,120$/);
    await page.screenshot({ path: `${screenshotDir}demo-choose-64-20.png`, fullPage: true });
    assert.deepEqual(seen.errors, []);
    await context.close();
  });

  test('counts computed and cached instances: first run, reload, one instance cleared, all cleared', async () => {
    const [n, k] = [12, 6];
    const graph = chooseGraph(n, k);
    const { context, page, seen } = await openDemo(`n=${n}&k=${k}&delay=0&workers=4`);
    const expected = chooseReference(n, k).toString();

    const first = await nextRun(page, 0);
    assert.equal(first.value, expected);
    assert.deepEqual(sorted(first.computed), sorted(graph), 'the first run computes every instance once');
    assert.deepEqual(first.counters, { total: graph.size, computed: graph.size, cached: 0, failed: 0 });
    await page.screenshot({ path: `${screenshotDir}demo-first-run.png`, fullPage: true });

    await page.reload();
    const reloaded = await nextRun(page, 0);
    assert.equal(reloaded.value, expected);
    assert.deepEqual(sorted(reloaded.cached), sorted(graph), 'after a reload, everything comes from IndexedDB');
    assert.deepEqual(reloaded.counters, { total: graph.size, computed: 0, cached: graph.size, failed: 0 });

    for (const [a, b] of [
      [7, 3],
      [1, 0],
      [n, k],
    ] as const) {
      const cleared = await runAfter(page, () => page.click(`[data-label="choose(${a},${b})"]`));
      const downstream = chooseDownstream(n, k, a, b);
      assert.equal(cleared.value, expected);
      assert.deepEqual(sorted(cleared.computed), sorted(downstream), `clearing choose(${a},${b})`);
      assert.equal(cleared.counters.computed, downstream.size);
      assert.equal(cleared.counters.cached, graph.size - downstream.size);
      if (a === 7) await page.screenshot({ path: `${screenshotDir}demo-cleared-one.png`, fullPage: true });
    }

    const all = await runAfter(page, () => page.click('#clear-all'));
    assert.equal(all.value, expected);
    assert.deepEqual(all.counters, { total: graph.size, computed: graph.size, cached: 0, failed: 0 });
    assert.deepEqual(seen.errors, []);
    await context.close();
  });

  test('counts an instance whose cached value vanished once, as computed', async () => {
    const graph = chooseGraph(8, 4);
    const { context, page, seen } = await openDemo('n=8&k=4&delay=0&workers=2');
    await nextRun(page, 0);
    await deleteValues(page, [
      [8, 4],
      [7, 3],
    ]);
    await page.reload();
    // The library reports both `cached` (their metadata is there), then computes them again.
    const shown = await nextRun(page, 0);
    assert.equal(shown.value, '70');
    assert.deepEqual(sorted(shown.computed), ['choose(7,3)', 'choose(8,4)']);
    assert.deepEqual(shown.counters, { total: graph.size, computed: 2, cached: graph.size - 2, failed: 0 });
    assert.match(
      (await page.textContent('#summary')) ?? '',
      new RegExp(`${graph.size} instances: 2 computed, ${graph.size - 2} from the cache,`),
    );
    assert.deepEqual(seen.errors, []);
    await context.close();
  });

  test('a link with values the form refuses runs with the defaults instead, and says so', async () => {
    const context = await browser.newContext();
    for (const [hash, value, url, refused] of [
      ['n=abc&k=2&delay=0&workers=5', '120', '#n=16&k=2&delay=0&workers=4', /n=abc.*workers=5/],
      ['n=300&k=3&delay=9999&workers=2', '560', '#n=16&k=3&delay=60&workers=2', /n=300 \(.+\).*delay=9999/],
      ['n=8.5&k=-3&delay=0&workers=1', '12870', '#n=16&k=8&delay=0&workers=1', /n=8\.5 \(.+\).*k=-3 \(.+\)/],
    ] as const) {
      const page = await context.newPage();
      await page.goto(`${server.url}#${hash}`);
      const shown = await nextRun(page, 0);
      assert.equal(shown.value, value, hash);
      assert.equal(new URL(page.url()).hash, url, 'the hash says what ran');
      assert.ok(await page.isVisible('#hash-notice'));
      assert.match((await page.textContent('#hash-notice')) ?? '', refused);
      await page.close();
    }
    // A valid link shows no notice.
    const page = await context.newPage();
    await page.goto(`${server.url}#n=3&k=1&delay=0&workers=8`);
    assert.equal((await nextRun(page, 0)).value, '3');
    assert.equal(await page.isVisible('#hash-notice'), false);
    assert.equal(new URL(page.url()).hash, '#n=3&k=1&delay=0&workers=8');
    await context.close();
  });

  test('says results are kept in memory when IndexedDB exists but fails to open', async () => {
    const context = await browser.newContext();
    // As in some private windows: the API is there, opening a database throws.
    await context.addInitScript(() => {
      indexedDB.open = () => {
        throw new DOMException(
          'A mutation operation was attempted on a database that did not allow mutations.',
          'InvalidStateError',
        );
      };
    });
    const page = await context.newPage();
    const seen = watchConsole(page);
    await page.goto(`${server.url}#n=6&k=3&delay=0&workers=2`);
    assert.equal((await nextRun(page, 0)).value, '20');
    await page.waitForSelector('#no-idb', { state: 'visible', timeout: 10_000 });
    assert.match(
      (await page.textContent('#no-idb')) ?? '',
      /for this page only: IndexedDB failed to open \(InvalidStateError/,
    );
    assert.match((await page.textContent('header')) ?? '', /cached in memory, for this page only/);
    assert.ok(
      seen.warnings.some((warning) => /^checkpoint-tool: IndexedDB .*results are cached in memory only/.test(warning)),
      'the library fell back',
    );
    await context.close();
  });

  test('works offline after the first load', async () => {
    const own = await serveDemo();
    const context = await browser.newContext();
    const page = await context.newPage();
    await page.goto(`${own.url}#n=10&k=3&delay=0`);
    await nextRun(page, 0);
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    await own.close();
    await page.reload();
    const offline = await nextRun(page, 0);
    assert.equal(offline.value, '120');
    assert.equal(
      offline.counters.cached,
      chooseGraph(10, 3).size,
      'answered from IndexedDB, served by the service worker',
    );
    assert.ok(await page.evaluate(() => navigator.serviceWorker.controller !== null), 'the page is controlled');
    // Computing needs the worker's own chunk: it was precached too.
    const recomputed = await runAfter(page, () => page.click('[data-label="choose(5,1)"]'));
    assert.equal(recomputed.value, '120');
    assert.deepEqual(sorted(recomputed.computed), sorted(chooseDownstream(10, 3, 5, 1)));
    assert.ok(page.workers().length >= 1, 'the pool started workers offline');
    await context.close();
  });
});
