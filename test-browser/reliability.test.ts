import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import type { ChooseOptions, Damage, RunReport } from '../demo-web/reliability.js';
import { storeCases } from '../test-node/store-suite.js';
import { chooseDownstream, chooseGraph, chooseReference, launch, serveDemo, watchConsole } from './helpers.js';

let server: Awaited<ReturnType<typeof serveDemo>>;
let browser: Browser;

before(async () => {
  [server, browser] = await Promise.all([serveDemo(), launch()]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** Opens the reliability lab in a new page of `context`. */
async function openLab(context: BrowserContext): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${server.url}reliability.html`);
  await page.waitForSelector('body[data-ready="true"]');
  return page;
}

const runChoose = (page: Page, options: ChooseOptions) =>
  page.evaluate((o) => window.reliability.choose(o), options) as Promise<RunReport>;

const sorted = (labels: Iterable<string>) => [...labels].sort();
const intersection = (a: Iterable<string>, b: Iterable<string>) => [...a].filter((label) => new Set(b).has(label));

describe('reliability in Chromium, on real IndexedDB', { timeout: 120_000 }, () => {
  describe('the store conformance suite on idbStore()', () => {
    let context: BrowserContext;
    let page: Page;
    before(async () => {
      context = await browser.newContext();
      page = await openLab(context);
      const inPage = (await page.evaluate('window.reliability.storeCaseNames')) as string[];
      assert.deepEqual(
        inPage,
        storeCases.map((storeCase) => storeCase.name),
        'the page has the same cases',
      );
      assert.equal(await page.evaluate('window.reliability.storeHasLock'), true, 'idbStore has Web Locks');
    });
    after(() => context?.close());
    for (const { name } of storeCases) {
      test(name, async () => {
        const result = await page.evaluate((caseName) => window.reliability.storeCase(caseName), name);
        assert.equal(result.error, undefined, `${name}: ${result.error}`);
      });
    }
  });

  test('two tabs running overlapping graphs at once compute each instance once between them', async () => {
    const context = await browser.newContext();
    const [left, right] = await Promise.all([openLab(context), openLab(context)]);
    const dbName = 'two-tabs';
    // Both runs plan before either computes anything (computations wait for release()), so that
    // they really overlap: every instance is then claimed by both, and each must be computed once.
    const runs = Promise.all([
      runChoose(left, { dbName, n: 10, k: 5, delay: 20, hold: true }),
      runChoose(right, { dbName, n: 10, k: 4, delay: 20, hold: true }),
    ]);
    for (const page of [left, right]) await page.waitForFunction(() => window.reliability.progress().planned);
    await Promise.all([left, right].map((page) => page.evaluate(() => window.reliability.release())));
    const [leftRun, rightRun] = await runs;
    assert.equal(leftRun.value, Number(chooseReference(10, 5)));
    assert.equal(rightRun.value, Number(chooseReference(10, 4)));
    assert.deepEqual(
      [leftRun.reused, rightRun.reused],
      [[], []],
      'the runs overlapped: neither found a result at its start',
    );
    const leftGraph = chooseGraph(10, 5);
    const rightGraph = chooseGraph(10, 4);
    assert.ok(intersection(leftGraph, rightGraph).length > 10, 'the graphs overlap');
    for (const [run, graph] of [
      [leftRun, leftGraph],
      [rightRun, rightGraph],
    ] as const) {
      assert.deepEqual(sorted([...run.finished, ...run.cached]), sorted(graph), 'each instance computed or reused');
      assert.deepEqual(intersection(run.finished, run.cached), []);
    }
    assert.deepEqual(intersection(leftRun.finished, rightRun.finished), [], 'no instance is computed by both tabs');
    assert.deepEqual(
      sorted([...leftRun.finished, ...rightRun.finished]),
      sorted(new Set([...leftGraph, ...rightGraph])),
      'between them, the tabs computed both graphs',
    );
    await context.close();
  });

  test('a tab closed mid-run leaves a readable cache: a new tab computes only what was not finished', async () => {
    const context = await browser.newContext();
    const first = await openLab(context);
    const dbName = 'closed-tab';
    const [n, k] = [10, 5];
    // Rows 0 to 6 are computed and stored; the computations of rows 7 on are running, and never end.
    const row = (label: string) => Number(label.slice('choose('.length).split(',')[0]);
    const graph = chooseGraph(n, k);
    const stored = [...graph].filter((label) => row(label) < 7);
    const running = runChoose(first, { dbName, n, k, delay: 0, stallFrom: 7 }).catch(() => undefined);
    await first.waitForFunction((count) => {
      const progress = window.reliability.progress();
      return progress.finished.length === count && progress.started.length > count;
    }, stored.length);
    const seen = (await first.evaluate('window.reliability.progress()')) as RunReport;
    assert.equal(seen.done, false, 'the run was still going');
    assert.deepEqual(sorted(seen.finished), sorted(stored));
    await first.close();
    await running;

    const second = await openLab(context);
    const seenErrors = watchConsole(second);
    const rerun = await runChoose(second, { dbName, n, k, delay: 0 });
    assert.equal(rerun.error, undefined);
    assert.equal(rerun.value, Number(chooseReference(n, k)));
    assert.deepEqual(intersection(rerun.finished, seen.finished), [], 'nothing finished before the close is redone');
    assert.deepEqual(sorted(intersection(seen.finished, rerun.reused)), sorted(seen.finished), 'it is read instead');
    assert.deepEqual(sorted(rerun.finished), sorted([...graph].filter((label) => row(label) >= 7)), 'the rest is');
    assert.deepEqual(sorted([...rerun.finished, ...rerun.cached]), sorted(graph));
    assert.deepEqual(seenErrors.errors, []);
    await context.close();
  });

  test('requestPersistentStorage() gives a boolean; storageUsage() grows when a large value is stored', async () => {
    const context = await browser.newContext();
    const page = await openLab(context);
    const persisted = await page.evaluate(() => window.reliability.requestPersistentStorage());
    assert.equal(typeof persisted, 'boolean');
    const before = await page.evaluate(() => window.reliability.storageUsage());
    assert.ok(before, 'navigator.storage.estimate exists in a page');
    assert.equal(before.persisted, persisted);
    assert.ok(before.quota > 0, `a quota: ${before.quota}`);
    const size = 4 << 20;
    const stored = (await page.evaluate((o) => window.reliability.noise(o), {
      dbName: 'usage',
      size,
      seed: 1,
    })) as RunReport;
    assert.deepEqual(stored.finished, [`noise(${size},1)`]);
    const after = await page.evaluate(() => window.reliability.storageUsage());
    assert.ok(after && after.usage >= before.usage + size, `usage from ${before.usage} to ${after?.usage} bytes`);
    await context.close();
  });

  test('a result too large for the quota fails its instance; what was stored before stays readable', async () => {
    const context = await browser.newContext();
    const page = await context.newPage();
    // Chromium applies an overridden quota to an origin whose storage it has not used yet.
    const cdp = await context.newCDPSession(page);
    const origin = new URL(server.url).origin;
    const quota = 1 << 20;
    await cdp.send('Storage.overrideQuotaForOrigin', { origin, quotaSize: quota });
    await page.goto(`${server.url}reliability.html`);
    await page.waitForSelector('body[data-ready="true"]');
    const dbName = 'quota';
    const small = { dbName, n: 6, k: 3, delay: 0 };
    const first = await runChoose(page, small);
    assert.equal(first.finished.length, chooseGraph(6, 3).size);
    // navigator.storage.estimate() goes on reporting the default quota; the browser enforces this one.
    const lowered = await cdp.send('Storage.getUsageAndQuota', { origin });
    assert.deepEqual([lowered.overrideActive, lowered.quota], [true, quota], 'CDP lowered the quota');

    const noise = (size: number, seed: number) =>
      page.evaluate((o) => window.reliability.noise(o), { dbName, size, seed }) as Promise<RunReport>;
    const size = 4 << 20;
    const tooLarge = await noise(size, 2);
    assert.equal(tooLarge.value, undefined);
    assert.equal(tooLarge.error?.name, 'TaskFailedError');
    assert.equal(tooLarge.error?.task, 'noise');
    assert.deepEqual(tooLarge.error?.args, [size, 2]);
    assert.match(tooLarge.error?.message ?? '', new RegExp(`^noise\\(${size},2\\) failed: QuotaExceededError`));
    assert.equal(tooLarge.error?.cause?.name, 'QuotaExceededError');
    assert.deepEqual(tooLarge.started, [`noise(${size},2)`]);
    assert.deepEqual(tooLarge.finished, []);

    const again = await runChoose(page, small);
    assert.equal(again.value, 20);
    assert.deepEqual(sorted(again.reused), sorted(chooseGraph(6, 3)), 'read from the cache, under the small quota');
    // The store still takes what fits.
    const fits = await noise(64 << 10, 3);
    assert.equal(fits.error, undefined);
    assert.deepEqual(fits.finished, [`noise(${64 << 10},3)`]);
    assert.deepEqual((await noise(64 << 10, 3)).reused, [`noise(${64 << 10},3)`]);
    await context.close();
  });

  test('evicted entries are recomputed, with everything downstream of them', async () => {
    const context = await browser.newContext();
    const page = await openLab(context);
    const dbName = 'evicted';
    const [n, k] = [8, 4];
    const options = { dbName, n, k, delay: 0 };
    const expected = Number(chooseReference(n, k));
    assert.equal((await runChoose(page, options)).finished.length, chooseGraph(n, k).size);

    await page.evaluate((name) => window.reliability.evict(name, [5, 2], 'both'), dbName);
    const evicted = await runChoose(page, options);
    assert.equal(evicted.error, undefined, evicted.error?.message);
    assert.equal(evicted.value, expected);
    assert.deepEqual(sorted(evicted.finished), sorted(chooseDownstream(n, k, 5, 2)));

    // Metadata left without its value: the value is computed again when needed (the root's, here).
    await page.evaluate(([name, root]) => window.reliability.evict(name, root, 'value'), [dbName, [n, k]] as const);
    const valueGone = await runChoose(page, options);
    assert.equal(valueGone.error, undefined, valueGone.error?.message);
    assert.equal(valueGone.value, expected);
    assert.deepEqual(valueGone.finished, [`choose(${n},${k})`]);

    // The store's open connection gives way to the deletion, and the next run opens a new database.
    await page.evaluate((name) => window.reliability.deleteDatabase(name), dbName);
    const deleted = await runChoose(page, options);
    assert.equal(deleted.error, undefined, deleted.error?.message);
    assert.equal(deleted.value, expected);
    assert.deepEqual(sorted(deleted.finished), sorted(chooseGraph(n, k)), 'a deleted database: everything again');
    await context.close();
  });

  const damages: Damage[] = ['text', 'random-bytes', 'truncated', 'same-length-random', 'meta-text', 'meta-partial'];
  for (const damage of damages) {
    // Bytes of the right length pass idbStore's checks; the scheduler then cannot decode them, and
    // must not take the same entry for fresh when it recomputes it under the entry's lock.
    test(`a damaged record (${damage}) is never returned as a value: it is computed again`, async () => {
      const context = await browser.newContext();
      const page = await openLab(context);
      const seen = watchConsole(page);
      const dbName = `damaged-${damage}`;
      const [n, k] = [7, 3];
      const options = { dbName, n, k, delay: 0 };
      const expected = Number(chooseReference(n, k));
      assert.equal((await runChoose(page, options)).value, expected);
      // The root, whose value the run returns; then an inner instance, read because a dependent
      // of it, choose(6,2), was evicted.
      for (const target of [
        [n, k],
        [5, 2],
      ] as [number, number][]) {
        const label = `choose(${target})`;
        await page.evaluate(([name, at, how]) => window.reliability.damage(name, at, how), [
          dbName,
          target,
          damage,
        ] as const);
        if (label === 'choose(5,2)')
          await page.evaluate((name) => window.reliability.evict(name, [6, 2], 'both'), dbName);
        const rerun = await runChoose(page, options);
        assert.equal(rerun.error, undefined, `damaged ${label}: ${rerun.error?.message}`);
        assert.equal(rerun.value, expected, `damaged ${label}`);
        assert.ok(rerun.finished.includes(label), `${label} is computed again`);
        assert.ok(
          // From idbStore, which drops records that do not make an entry, or from the scheduler,
          // which recomputes a value it cannot decode.
          seen.warnings.some((warning) => warning.includes(label) && /damaged|unreadable/.test(warning)),
          `a warning names ${label}: ${JSON.stringify(seen.warnings)}`,
        );
      }
      assert.deepEqual(seen.errors, []);
      await context.close();
    });
  }
});
