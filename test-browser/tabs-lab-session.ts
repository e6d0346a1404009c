/**
 * The tabs lab (test-browser/tabs-lab.ts, its tasks and worker, bundled as a user's app bundles
 * them) and Chromium, made once for the test file that imports this module: importing it
 * registers that file's `before` and `after` hooks.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { bundleLab, launch } from './helpers.js';

/** Chromium, once the `before` hook has run. */
export let browser: Browser;
const outDir = join(tmpdir(), `checkpoint-tabs-lab-${process.pid}`);

before(async () => {
  const bundle = bundleLab(outDir, {
    'tabs-lab': join(import.meta.dirname, 'tabs-lab.ts'),
    'tabs-lab-worker': join(import.meta.dirname, 'tabs-lab-worker.ts'),
  });
  [browser] = await Promise.all([launch(), bundle]);
});
after(async () => {
  await browser?.close();
});

/** A secure origin (Web Locks exist), served by the test itself through request interception. */
const origin = 'http://localhost:9/';

/** A new browser context serving the tabs lab; its tabs share the origin's IndexedDB and Web Locks. */
export async function tabsContext(): Promise<BrowserContext> {
  const context = await browser.newContext();
  // tsx keeps the names of functions in the tests' page.evaluate callbacks through esbuild's __name.
  await context.addInitScript('globalThis.__name = (target) => target;');
  await context.route(`${origin}**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (!path.endsWith('.js')) {
      return route.fulfill({
        contentType: 'text/html',
        body: '<!doctype html><script type="module" src="tabs-lab.js"></script>',
      });
    }
    const body = await readFile(join(outDir, basename(path)), 'utf8').catch(() => undefined);
    return body === undefined
      ? route.fulfill({ status: 404 })
      : route.fulfill({ contentType: 'text/javascript', body });
  });
  return context;
}

/** A new tab of `context` on the lab, named `tab` (its computations say `<tab>-main` or `<tab>-worker-<i>`). */
export async function openTab(context: BrowserContext, tab: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${origin}?tab=${tab}`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return page;
}
