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

/** Deletes the stored values (not the metadata) of these `choose` instances from the demo's IndexedDB. */
export function deleteValues(page: Page, args: [number, number][]): Promise<void> {
  return page.evaluate(
    (keys) =>
      new Promise<void>((resolve, reject) => {
        const request = indexedDB.open('checkpoint');
        request.onerror = () => reject(request.error);
        request.onsuccess = () => {
          const transaction = request.result.transaction('entries', 'readwrite');
          for (const key of keys) transaction.objectStore('entries').delete(['v', 'choose', key]);
          transaction.oncomplete = () => {
            request.result.close();
            resolve();
          };
          transaction.onerror = () => reject(transaction.error);
        };
      }),
    args.map(([n, k]) => `[${n},${k}]`),
  );
}

// Source text, for the same reason as readScript. WCAG 2 contrast of an element's text against the
// first opaque background behind it (the demo's backgrounds are opaque colours, never images).
const contrastScript = `((selector) => {
  const rgb = (color) => (color.match(/[\\d.]+/g) ?? []).map(Number);
  const luminance = (color) => {
    const [r, g, b] = rgb(color).map((c) => c / 255).map((c) => (c <= 0.04045 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4));
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const element = document.querySelector(selector);
  let behind = element;
  while (behind && (rgb(getComputedStyle(behind).backgroundColor)[3] ?? 1) === 0) behind = behind.parentElement;
  const [light, dark] = [luminance(getComputedStyle(element).color), luminance(getComputedStyle(behind ?? document.documentElement).backgroundColor)].sort((a, b) => b - a);
  return (light + 0.05) / (dark + 0.05);
})`;

/** The contrast ratio of an element's text against its background, as WCAG 2 defines it. */
export function contrast(page: Page, selector: string): Promise<number> {
  return page.evaluate(`${contrastScript}(${JSON.stringify(selector)})`) as Promise<number>;
}
