/**
 * The demo served and Chromium launched once for the test file that imports this module: importing
 * it registers that file's `before` and `after` hooks (each test file runs in a process of its
 * own), and the `before` hook sets `server` and `browser`.
 * @module
 */
import { mkdir } from 'node:fs/promises';
import { after, before } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { launch, screenshotDir, serveDemo, watchConsole } from './helpers.js';

/** The static server of the built demo, once the `before` hook has run. */
export let server: Awaited<ReturnType<typeof serveDemo>>;
/** Chromium, once the `before` hook has run. */
export let browser: Browser;

before(async () => {
  await mkdir(screenshotDir, { recursive: true });
  [server, browser] = await Promise.all([serveDemo(), launch()]);
});
after(async () => {
  await browser?.close();
  await server?.close();
});

/** A fresh context (its own IndexedDB) and page, opened on the demo with these settings. */
export async function openDemo(
  hash: string,
): Promise<{ context: BrowserContext; page: Page; seen: ReturnType<typeof watchConsole> }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const seen = watchConsole(page);
  await page.goto(`${server.url}#${hash}`);
  return { context, page, seen };
}
