/**
 * The pool lab (test-browser/pool-lab.ts and its worker, bundled as a user's app bundles them) and
 * Chromium, made once for the test file that imports this module: importing it registers that
 * file's `before` and `after` hooks.
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
const outDir = join(tmpdir(), `checkpoint-pool-lab-${process.pid}`);

before(async () => {
  const bundle = bundleLab(outDir, {
    'pool-lab': join(import.meta.dirname, 'pool-lab.ts'),
    'pool-lab-worker': join(import.meta.dirname, 'pool-lab-worker.ts'),
    'pool-lab-late-worker': join(import.meta.dirname, 'pool-lab-late-worker.ts'),
  });
  [browser] = await Promise.all([launch(), bundle]);
});
after(async () => {
  await browser?.close();
});

/** A secure origin (Web Locks exist), served by the test itself through request interception. */
const origin = 'http://localhost:9/';

/** A new page, in a context of its own, on the pool lab, once the library is loaded in it. */
export async function openPoolLab(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext();
  // tsx keeps the names of functions in the tests' page.evaluate callbacks through esbuild's __name.
  await context.addInitScript('globalThis.__name = (target) => target;');
  await context.route(`${origin}**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (!path.endsWith('.js')) {
      return route.fulfill({
        contentType: 'text/html',
        body: '<!doctype html><script type="module" src="pool-lab.js"></script>',
      });
    }
    const body = await readFile(join(outDir, basename(path)), 'utf8').catch(() => undefined);
    return body === undefined
      ? route.fulfill({ status: 404 })
      : route.fulfill({ contentType: 'text/javascript', body });
  });
  const page = await context.newPage();
  await page.goto(origin);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return { context, page };
}
