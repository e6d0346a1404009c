import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compute, contrast, nextRun, runAfter } from './demo-page.js';
import { openDemo } from './demo-session.js';
import { chooseDownstream, chooseGraph, chooseReference, screenshotDir, sorted } from './helpers.js';

describe('the choose(n, k) demo', { timeout: 150_000 }, () => {
  test('draws text with a contrast of at least 4.5:1, light and dark', async () => {
    const { context, page } = await openDemo('n=2&k=1&delay=0');
    await nextRun(page, 0);
    for (const colorScheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme });
      for (const selector of ['#clear-all', '#broken-list', '#compute', '.counters dt']) {
        const ratio = await contrast(page, selector);
        assert.ok(ratio >= 4.5, `${selector} in ${colorScheme}: ${ratio.toFixed(2)}:1`);
      }
    }
    await context.close();
  });

  test('a large graph is not animated, so that it is repainted only when a state changes', async () => {
    // Past 300 instances (here 441) every repaint costs a redraw of the whole graph.
    const { context, page } = await openDemo('n=40&k=20&delay=500&workers=2');
    await page.waitForSelector('#graph .node[data-state="running"]');
    assert.deepEqual(
      await page.evaluate(() =>
        document.getAnimations().map((animation) => (animation as CSSAnimation).animationName ?? 'transition'),
      ),
      [],
    );
    await compute(page, 2, 1); // cancels the long run
    await context.close();
  });

  test('runs the tasks in a pool of Web Workers, several at once', async () => {
    const { context, page } = await openDemo('n=8&k=4&delay=150&workers=3');
    const shown = await nextRun(page, 0);
    assert.equal(shown.value, '70');
    await page.screenshot({ path: `${screenshotDir}demo-workers.png`, fullPage: true });
    const workers = page.workers();
    assert.equal(workers.length, 3, 'the pool started its three Web Workers');
    for (const worker of workers) {
      assert.match(worker.url(), /tasks\.worker[^/]*\.js$/);
      assert.equal(await worker.evaluate(() => typeof (globalThis as { document?: unknown }).document), 'undefined');
    }
    const ranOn = await page.$$eval('#graph .node[data-state="computed"]', (nodes) =>
      nodes.map((node) => (node as SVGGElement).dataset.worker),
    );
    assert.equal(ranOn.length, chooseGraph(8, 4).size);
    for (const name of ranOn) assert.match(name ?? '', /^worker-[1-3]$/, 'each instance ran in a pool worker');
    assert.ok(new Set(ranOn).size >= 2, `several workers computed instances, got ${[...new Set(ranOn)]}`);
    const listed = await page.$$eval('#worker-list li', (items) => items.map((item) => item.dataset.worker));
    assert.deepEqual(sorted(listed as string[]), sorted(new Set(ranOn as string[])));

    // The delay is not part of the cache key: moving the slider (keyboard: End) invalidates nothing.
    await page.focus('#delay');
    await page.keyboard.press('End');
    assert.equal(await page.textContent('#delay-value'), '500 ms');
    const again = await runAfter(page, () => page.click('#compute'));
    assert.equal(again.counters.cached, chooseGraph(8, 4).size);
    assert.equal(again.counters.computed, 0);
    await context.close();
  });

  test('a failing task shows its error in the page', async () => {
    const { context, page } = await openDemo('n=3&k=5&delay=0');
    const shown = await nextRun(page, 0);
    assert.equal(shown.value, undefined);
    assert.deepEqual(shown.failed, ['choose(3,5)']);
    assert.equal(shown.counters.failed, 1);
    assert.match(shown.error ?? '', /choose\(3,5\) failed: RangeError: choose\(n, k\) needs whole numbers/);
    assert.ok(await page.isVisible('[role="alert"]'));
    assert.match((await page.textContent('#result')) ?? '', /could not be computed/);
    await page.screenshot({ path: `${screenshotDir}demo-error.png`, fullPage: true });

    // The page recovers: the next valid input is answered.
    const next = await compute(page, 5, 3);
    assert.equal(next.value, '10');
    assert.equal(next.error, undefined);
    await context.close();
  });

  test('a broken instance fails in its worker: its downstream is skipped, the rest computed', async () => {
    const [n, k] = [10, 5];
    const graph = chooseGraph(n, k);
    const downstream = chooseDownstream(n, k, 5, 2);
    const { context, page } = await openDemo(`n=${n}&k=${k}&delay=0&broken=5,2`);
    const broken = await nextRun(page, 0);
    assert.equal(broken.value, undefined);
    assert.deepEqual(broken.failed, ['choose(5,2)']);
    assert.deepEqual(sorted(broken.skipped), sorted([...downstream].filter((label) => label !== 'choose(5,2)')));
    assert.equal(broken.computed.length, graph.size - downstream.size, 'everything else is still computed');
    assert.match(broken.error ?? '', /choose\(5,2\) failed: Error: choose\(5, 2\) was broken on purpose/);
    assert.match((await page.textContent('#broken-list')) ?? '', /Broken: choose\(5, 2\)/);
    await page.screenshot({ path: `${screenshotDir}demo-broken.png`, fullPage: true });

    // Clicking it repairs it: it and its downstream are computed, the rest read from the cache.
    const repaired = await runAfter(page, () => page.click('[data-label="choose(5,2)"]'));
    assert.equal(repaired.value, chooseReference(n, k).toString());
    assert.deepEqual(sorted(repaired.computed), sorted(downstream));
    assert.equal(repaired.counters.cached, graph.size - downstream.size);
    assert.equal(repaired.error, undefined);
    assert.equal(await page.textContent('#broken-list'), '');

    // In break mode, a click breaks the instance.
    await page.click('#break-mode');
    assert.equal(await page.getAttribute('#break-mode', 'aria-pressed'), 'true');
    const again = await runAfter(page, () => page.click('[data-label="choose(3,1)"]'));
    assert.deepEqual(again.failed, ['choose(3,1)']);
    const below = chooseDownstream(n, k, 3, 1);
    assert.deepEqual(sorted(again.skipped), sorted([...below].filter((label) => label !== 'choose(3,1)')));
    assert.equal(again.counters.cached, graph.size - below.size);
    assert.match(page.url(), /broken=3,1$/);
    await context.close();
  });

  test('is usable with the keyboard alone', async () => {
    const [n, k] = [9, 4];
    const { context, page } = await openDemo('n=3&k=1&delay=0');
    await nextRun(page, 0);
    const typed = await runAfter(page, async () => {
      await page.focus('#n');
      await page.keyboard.press('Control+A');
      await page.keyboard.type(String(n));
      await page.keyboard.press('Tab');
      await page.keyboard.press('Control+A');
      await page.keyboard.type(String(k));
      await page.keyboard.press('Enter');
    });
    assert.equal(typed.value, '126');
    // From the controls, Tab reaches the graph (one tab stop), on the answer; arrows move between
    // instances: up to the nearest node of the row above (the left one on a tie), right along a row.
    await page.focus('#clear-all');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'break-mode');
    await page.keyboard.press('Tab');
    const focused = () => page.evaluate(() => (document.activeElement as HTMLElement).dataset.label);
    assert.equal(await focused(), 'choose(9,4)');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(), 'choose(8,3)');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowRight');
    assert.equal(await focused(), 'choose(7,3)');
    assert.match((await page.textContent('#node-info')) ?? '', /^choose\(7,3\): computed now on worker-\d/);
    const cleared = await runAfter(page, () => page.keyboard.press('Enter'));
    const downstream = chooseDownstream(n, k, 7, 3);
    assert.deepEqual(sorted(cleared.computed), sorted(downstream));
    const size = chooseGraph(n, k).size;
    assert.equal(
      await page.textContent('#summary'),
      `choose(9, 4) = 126. ${size} instances: ${downstream.size} computed, ${size - downstream.size} from the cache, in ${await page.evaluate(() => document.getElementById('run-time')?.textContent?.replace(' s', ''))} s.`,
    );
    await page.screenshot({ path: `${screenshotDir}demo-keyboard.png`, fullPage: true });
    await context.close();
  });
});
