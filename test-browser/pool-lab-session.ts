/**
 * The pool lab (test-browser/pool-lab.ts and its workers) and Chromium, made once for the test
 * file that imports this module: importing it registers that file's `before` and `after` hooks.
 * @module
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { labSession, origin } from './lab-session.js';

const poolContext = labSession(
  'pool-lab',
  {
    'pool-lab': join(import.meta.dirname, 'pool-lab.ts'),
    'pool-lab-worker': join(import.meta.dirname, 'pool-lab-worker.ts'),
    'pool-lab-late-worker': join(import.meta.dirname, 'pool-lab-late-worker.ts'),
  },
  'pool-lab',
);

/** A new page, in a context of its own, on the pool lab, once the library is loaded in it. */
export async function openPoolLab(): Promise<{ context: BrowserContext; page: Page }> {
  const context = await poolContext();
  const page = await context.newPage();
  await page.goto(origin);
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  return { context, page };
}
