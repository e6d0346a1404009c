/**
 * The tabs lab (test-browser/tabs-lab.ts, its tasks and worker) and Chromium, made once for the
 * test file that imports this module: importing it registers that file's `before` and `after` hooks.
 * @module
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { labSession, origin } from './lab-session.js';

/** A new browser context serving the tabs lab; its tabs share the origin's IndexedDB and Web Locks. */
export const tabsContext: () => Promise<BrowserContext> = labSession(
  'tabs-lab',
  {
    'tabs-lab': join(import.meta.dirname, 'tabs-lab.ts'),
    'tabs-lab-worker': join(import.meta.dirname, 'tabs-lab-worker.ts'),
  },
  'tabs-lab',
);

/** A new tab of `context` on the lab, named `tab` (its computations say `<tab>-main` or `<tab>-worker-<i>`). */
export async function openTab(context: BrowserContext, tab: string): Promise<Page> {
  const page = await context.newPage();
  await page.goto(`${origin}?tab=${tab}`);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return page;
}
