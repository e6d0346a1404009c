import type { Page } from 'playwright-core';

/** What the demo page shows after a run. */
export interface RunView {
  /** The answer's digits, or `undefined` when the run failed. */
  value: string | undefined;
  /** The labels of the instances in each state, from the graph. */
  computed: string[];
  cached: string[];
  failed: string[];
  skipped: string[];
  /** The counters as displayed. */
  counters: { total: number; computed: number; cached: number; failed: number };
  error: string | undefined;
}

/** How many runs the page has finished (successfully or not, cancelled ones excluded). */
export async function finishedRuns(page: Page): Promise<number> {
  return Number(await page.getAttribute('body', 'data-runs'));
}

/** Waits until the page has finished more than `before` runs, then reads what it shows. */
export async function nextRun(page: Page, before: number): Promise<RunView> {
  await page.waitForFunction((n) => Number(document.body.dataset.runs) > n, before, { timeout: 60_000 });
  return readRun(page);
}

/** Does `action` on the page, and reads the run it caused. */
export async function runAfter(page: Page, action: () => Promise<unknown>): Promise<RunView> {
  const before = await finishedRuns(page);
  await action();
  return nextRun(page, before);
}

/** Types n and k into the form and submits it. */
export function compute(page: Page, n: number, k: number): Promise<RunView> {
  return runAfter(page, async () => {
    await page.fill('#n', String(n));
    await page.fill('#k', String(k));
    await page.click('#compute');
  });
}

// Sent as source text: tsx would wrap named inner functions of a callback in a `__name` helper
// that does not exist in the page.
const readScript = `(() => {
  const labels = (state) =>
    [...document.querySelectorAll('#graph .node[data-state="' + state + '"]')].map((node) => node.dataset.label);
  const number = (id) => Number(document.getElementById(id).textContent);
  const error = document.getElementById('error');
  return {
    value: document.getElementById('result').dataset.value,
    computed: labels('computed'),
    cached: labels('cached'),
    failed: labels('failed'),
    skipped: labels('skipped'),
    counters: {
      total: number('count-total'),
      computed: number('count-computed'),
      cached: number('count-cached'),
      failed: number('count-failed'),
    },
    error: error.hidden ? undefined : error.textContent,
  };
})()`;

/** Reads the graph, the counters and the answer. */
export function readRun(page: Page): Promise<RunView> {
  return page.evaluate(readScript) as Promise<RunView>;
}
