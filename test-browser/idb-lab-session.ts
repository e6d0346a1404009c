/**
 * The IndexedDB lab (test-browser/idb-lab.ts, bundled as a user's app bundles the library) and
 * Chromium, made once for the test file that imports this module: importing it registers that
 * file's `before` and `after` hooks (each test file runs in a process of its own).
 * @module
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { bundleLab, launch } from './helpers.js';

/** Chromium, once the `before` hook has run. */
export let browser: Browser;
/** The lab's bundle, once the `before` hook has run. */
let labBundle: string;

before(async () => {
  const outDir = join(tmpdir(), `checkpoint-idb-lab-${process.pid}`);
  const bundle = bundleLab(outDir, { 'idb-lab': join(import.meta.dirname, 'idb-lab.ts') });
  [browser] = await Promise.all([launch(), bundle]);
  labBundle = await readFile(join(outDir, 'idb-lab.js'), 'utf8');
});
after(async () => {
  await browser?.close();
});

/** A secure origin (Web Locks exist), served by the test itself through request interception. */
export const labOrigin = 'http://localhost:9/';

/** A new browser context whose `origin` serves the lab page; `init` runs in each page first. */
export async function labContext(origin = labOrigin, init?: () => void): Promise<BrowserContext> {
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

/** A new page of `context` on the lab, once the library is loaded in it. */
export async function openIdbLab(context: BrowserContext, origin = labOrigin): Promise<Page> {
  const page = await context.newPage();
  await page.goto(origin);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return page;
}
