import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { chooseGraph, chooseReference, sorted, watchConsole } from './helpers.js';
import { openTab, tabsContext } from './tabs-lab-session.js';

/** Runs `cell(n, k)` in a tab, on a pool of `poolSize` workers if given. */
const run = (page: Page, n: number, k: number, poolSize?: number) =>
  page.evaluate(([n, k, poolSize]) => window.tabsLab.run(n, k, poolSize), [n, k, poolSize] as const);
/** Resolves once the tab's current run has planned `count` instances. */
const planned = (page: Page, count: number) =>
  page.waitForFunction((count) => (window.tabsLab.progress()?.planned.length ?? 0) >= count, count);
/** The gate's policy, in the observer tab (see tabs-lab.ts). */
const setPolicy = (observer: Page, policy: { hold: boolean; stall: string[] }) =>
  observer.evaluate((policy) => window.tabsLab.setPolicy(policy), policy);
/** A new observer tab: it counts every computation of the origin and gates it by `policy`. */
async function openObserver(
  context: Awaited<ReturnType<typeof tabsContext>>,
  policy = { hold: false, stall: [] as string[] },
) {
  const observer = await openTab(context, 'O');
  await observer.evaluate(() => window.tabsLab.observe());
  await setPolicy(observer, policy);
  return observer;
}
/** The labels of the computations that ended, in every tab and worker, each as often as it ended. */
const computed = async (observer: Page) =>
  (await observer.evaluate(() => window.tabsLab.observed())).dones.map((done) => done.label);
/** The labels of cell(n, k)'s graph. */
const cells = (n: number, k: number) =>
  sorted([...chooseGraph(n, k)].map((label) => label.replace('choose', 'tabs.cell')));
/** What the version test defines in each tab (the page's global `lab()` gives it, so that the callbacks find it). */
interface VersionLab {
  reached: boolean;
  open(): void;
  shared(): { run(): Promise<string> };
  use(): { run(): Promise<string> };
}
declare function lab(): VersionLab;
const row = (label: string) => Number(label.slice('tabs.cell('.length).split(',')[0]);
const leaf = (label: string) => /\((\d+),(0|\1)\)$/.test(label);

describe('several tabs of one origin, on the default IndexedDB store', { timeout: 120_000 }, () => {
  test('two tabs running one graph at once, one on a pool, one in process, compute each instance once', async () => {
    const context = await tabsContext();
    const observer = await openObserver(context, { hold: true, stall: [] });
    const [a, b] = await Promise.all([openTab(context, 'A'), openTab(context, 'B')]);
    const graph = cells(8, 4);
    const runs = Promise.all([run(a, 8, 4, 2), run(b, 8, 4)]);
    // Both have planned before anything is computed: every instance is missing for both.
    await Promise.all([planned(a, graph.length), planned(b, graph.length)]);
    await setPolicy(observer, { hold: false, stall: [] });
    const reports = await runs;
    for (const report of reports) {
      assert.equal(report.error, undefined);
      assert.equal(report.value, Number(chooseReference(8, 4)));
      assert.deepEqual(sorted([...report.finished, ...report.cached]), graph, 'each instance computed or reused');
    }
    assert.deepEqual(sorted(await computed(observer)), graph, 'each instance computed once between them');
    await context.close();
  });

  for (const [closed, other] of [
    ['on a pool', 'in process'],
    ['in process', 'on a pool'],
  ] as const) {
    test(`a tab ${closed} closed while it holds locks: the other tab, ${other}, computes what it held and finishes`, async () => {
      const context = await tabsContext();
      // A's computations never end: it holds their locks until it is closed.
      const observer = await openObserver(context, { hold: false, stall: ['A-'] });
      const [a, b] = await Promise.all([openTab(context, 'A'), openTab(context, 'B')]);
      const seen = watchConsole(b);
      const graph = cells(7, 3);
      void run(a, 7, 3, closed === 'on a pool' ? 2 : undefined).catch(() => undefined);
      await observer.waitForFunction(() =>
        window.tabsLab.observed().starts.some((start) => start.where.startsWith('A-')),
      );
      const held = (await observer.evaluate(() => window.tabsLab.observed().starts)).map((start) => start.label);
      const running = run(b, 7, 3, other === 'on a pool' ? 2 : undefined);
      await planned(b, graph.length);
      await a.close();
      const report = await running;
      assert.equal(report.error, undefined);
      assert.equal(report.value, Number(chooseReference(7, 3)));
      for (const label of held)
        assert.ok(report.finished.includes(label), `${label}, held by the closed tab, is computed`);
      assert.deepEqual(sorted(await computed(observer)), graph, 'each instance computed once, by the tab left');
      assert.deepEqual([...seen.errors, ...seen.warnings], []);
      // A new tab finds every entry stored and whole.
      const warm = await run(await openTab(context, 'C'), 7, 3);
      assert.equal(warm.value, Number(chooseReference(7, 3)));
      assert.deepEqual(warm.started, []);
      await context.close();
    });
  }

  test('a run cancelled in one tab while it holds locks: what it was computing is stored, the other tab computes the rest', async () => {
    const context = await tabsContext();
    const observer = await openObserver(context, { hold: true, stall: [] });
    const [a, b] = await Promise.all([openTab(context, 'A'), openTab(context, 'B')]);
    const seen = [watchConsole(a), watchConsole(b)];
    const graph = cells(7, 3);
    const left = run(a, 7, 3, 2);
    await observer.waitForFunction(() => window.tabsLab.held().length >= 2);
    const right = run(b, 7, 3);
    await planned(b, graph.length);
    await a.evaluate(() => window.tabsLab.cancel());
    await setPolicy(observer, { hold: false, stall: [] });
    const [cancelled, report] = await Promise.all([left, right]);
    assert.equal(cancelled.errorName, 'AbortError');
    assert.ok(cancelled.finished.length > 0, 'what A was computing when cancelled is stored');
    assert.equal(report.error, undefined);
    assert.equal(report.value, Number(chooseReference(7, 3)));
    assert.deepEqual(sorted([...report.cached, ...report.finished]), graph);
    for (const label of cancelled.finished) assert.ok(report.cached.includes(label), `${label} is reused by B`);
    assert.deepEqual(sorted(await computed(observer)), graph, 'each instance computed once between them');
    for (const { errors, warnings } of seen) assert.deepEqual([...errors, ...warnings], []);
    await context.close();
  });

  test('a task and its instances cleared by one tab, between every computation of a run in another', async () => {
    const context = await tabsContext();
    const observer = await openObserver(context, { hold: true, stall: [] });
    const [a, b] = await Promise.all([openTab(context, 'A'), openTab(context, 'B')]);
    const seen = [watchConsole(a), watchConsole(b)];
    const left = run(a, 7, 3, 2);
    let clears = 0;
    for (let step = 0; ; step++) {
      const next = await Promise.race([
        left.then(() => 'done' as const),
        observer.waitForFunction(() => window.tabsLab.held().length > 0).then(() => 'held' as const),
      ]);
      if (next === 'done') break;
      // B clears the whole task, or one instance of it, then lets the computations held go on.
      await b.evaluate((step) => {
        const { cell } = window.tabsLab;
        return step % 2 ? cell.clear() : cell(2 + (step % 5), 1).clear();
      }, step);
      clears++;
      await observer.evaluate(() => window.tabsLab.releaseHeld());
    }
    await setPolicy(observer, { hold: false, stall: [] });
    const report = await left;
    assert.ok(clears > 3, `cleared ${clears} times`);
    assert.equal(report.error, undefined);
    assert.equal(report.value, Number(chooseReference(7, 3)));
    // What the clears left is computed again, by either tab, with the right value.
    for (const page of [b, a]) {
      const again = await run(page, 7, 3);
      assert.equal(again.error, undefined);
      assert.equal(again.value, Number(chooseReference(7, 3)));
    }
    for (const { errors, warnings } of seen) assert.deepEqual([...errors, ...warnings], []);
    await context.close();
  });

  test('a tab reloaded mid-run: its next run reuses what was stored and computes the rest', async () => {
    const context = await tabsContext();
    const graph = cells(6, 3);
    // Rows 0 to 2 are computed; the computations of the rest never end.
    const stalled = graph.filter((label) => row(label) > 2 && !leaf(label));
    const observer = await openObserver(context, { hold: false, stall: stalled });
    const a = await openTab(context, 'A');
    void run(a, 6, 3).catch(() => undefined);
    const stored = graph.filter((label) => !stalled.includes(label));
    await a.waitForFunction((count) => window.tabsLab.progress()?.finished.length === count, stored.length);
    await observer.waitForFunction(() => window.tabsLab.observed().starts.length > 0);
    await a.reload();
    await a.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    await setPolicy(observer, { hold: false, stall: [] });
    const warm = await run(a, 6, 3);
    assert.equal(warm.value, Number(chooseReference(6, 3)));
    assert.deepEqual(sorted(warm.cached), stored, 'what finished before the reload is reused');
    assert.deepEqual(sorted(warm.finished), sorted(stalled), 'what was running is computed');
    await context.close();
  });

  test('a tab running an older version of a task never gets the value a newer version stored meanwhile', async () => {
    const context = await tabsContext();
    const [a, b] = await Promise.all([openTab(context, 'A'), openTab(context, 'B')]);
    // `shared` computed by each tab's version; `use` reads it once `gate` opens.
    const define = (version: string) => {
      const { task, requires } = window.tabsLab.checkpoint;
      const lab = { reached: false, open: () => {} };
      const opened = new Promise<void>((resolve) => {
        lab.open = resolve;
      });
      const shared = task('shared', () => () => `computed by version ${version}`, { version });
      const gate = task('gate', () => async () => {
        lab.reached = true;
        await opened;
        return 0;
      });
      const use = task('use', () => requires(shared(), gate())((value) => value));
      const all = Object.assign(lab, { shared, use });
      Object.assign(window, { lab: () => all });
    };
    await a.evaluate(define, '1');
    await b.evaluate(define, '2');
    assert.equal(await a.evaluate(() => lab().shared().run()), 'computed by version 1');
    // A plans `use` with `shared` fresh (version 1), then B stores version 2's before A reads it.
    const using = a.evaluate(() => lab().use().run());
    await a.waitForFunction(() => lab().reached);
    assert.equal(await b.evaluate(() => lab().shared().run()), 'computed by version 2');
    await a.evaluate(() => lab().open());
    assert.equal(await using, 'computed by version 1', "A computes its version's value again");
    await context.close();
  });

  test('defaultStoreStatus, requestPersistentStorage and storageUsage agree in every tab', async () => {
    const context = await tabsContext();
    await openObserver(context);
    const pages = await Promise.all([openTab(context, 'A'), openTab(context, 'B')]);
    assert.equal((await run(pages[0] as Page, 4, 2)).value, 6);
    const seen = await Promise.all(
      pages.map((page) =>
        page.evaluate(async () => {
          const { checkpoint } = window.tabsLab;
          return {
            status: await checkpoint.defaultStoreStatus(),
            persisted: await checkpoint.requestPersistentStorage(),
            usage: await checkpoint.storageUsage(),
          };
        }),
      ),
    );
    for (const { status, persisted, usage } of seen) {
      assert.deepEqual(status, { kind: 'indexeddb', persistent: true });
      assert.equal(typeof persisted, 'boolean');
      assert.equal(usage?.persisted, persisted);
      assert.ok((usage?.usage ?? 0) > 0 && (usage?.quota ?? 0) > (usage?.usage ?? 0));
    }
    await context.close();
  });
});
