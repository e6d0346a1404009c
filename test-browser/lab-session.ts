/**
 * A lab app (test pages and workers bundled as a user's app bundles them) and Chromium, made once
 * for the test file that imports the caller: {@link labSession} registers that file's `before`
 * and `after` hooks.
 * @module
 */
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { after, before } from 'node:test';
import type { Browser, BrowserContext } from 'playwright-core';
import { bundleLab, launch } from './helpers.js';

/** A secure origin (Web Locks exist), served by the tests themselves through request interception. */
export const origin = 'http://localhost:9/';

/**
 * Bundles `entries` (output name to source file) and launches Chromium before the tests, closes
 * it after them. Gives a function making a browser context that serves the bundle at
 * {@link origin}: every path but a script's is a page loading `<page>.js`.
 */
export function labSession(name: string, entries: Record<string, string>, page: string): () => Promise<BrowserContext> {
  let browser: Browser | undefined;
  const outDir = join(tmpdir(), `checkpoint-${name}-${process.pid}`);
  before(async () => {
    [browser] = await Promise.all([launch(), bundleLab(outDir, entries)]);
  });
  after(async () => {
    await browser?.close();
  });
  return async () => {
    if (!browser) throw new Error(`the ${name} session's browser is not launched yet`);
    const context = await browser.newContext();
    // tsx keeps the names of functions in the tests' page.evaluate callbacks through esbuild's __name.
    await context.addInitScript('globalThis.__name = (target) => target;');
    await context.route(`${origin}**`, async (route) => {
      const path = new URL(route.request().url()).pathname;
      if (!path.endsWith('.js')) {
        return route.fulfill({
          contentType: 'text/html',
          body: `<!doctype html><script type="module" src="${page}.js"></script>`,
        });
      }
      const body = await readFile(join(outDir, basename(path)), 'utf8').catch(() => undefined);
      return body === undefined
        ? route.fulfill({ status: 404 })
        : route.fulfill({ contentType: 'text/javascript', body });
    });
    return context;
  };
}
