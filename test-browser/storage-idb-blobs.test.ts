import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { build } from 'vite';
import { launch } from './helpers.js';

let browser: Browser;
/** test-browser/idb-lab.ts, bundled as a user's app bundles the library. */
let labBundle: string;

before(async () => {
  const outDir = join(tmpdir(), `checkpoint-idb-blobs-${process.pid}`);
  const bundle = build({
    configFile: false,
    logLevel: 'warn',
    root: import.meta.dirname,
    build: {
      outDir,
      emptyOutDir: true,
      target: 'es2022',
      minify: false,
      lib: { entry: join(import.meta.dirname, 'idb-lab.ts'), formats: ['es'], fileName: 'idb-lab' },
    },
  });
  [browser] = await Promise.all([launch(), bundle]);
  labBundle = await readFile(join(outDir, 'idb-lab.js'), 'utf8');
});
after(async () => {
  await browser?.close();
});

test('idbStore in Chromium: a value over 64 MiB on a resizable buffer is stored as a Blob and read back', {
  timeout: 120_000,
}, async () => {
  const context = await browser.newContext();
  // tsx keeps the names of functions in the tests' page.evaluate callbacks through esbuild's __name.
  await context.addInitScript('globalThis.__name = (target) => target;');
  await context.route('http://localhost:9/**', (route) =>
    route.request().url().endsWith('.js')
      ? route.fulfill({ contentType: 'text/javascript', body: labBundle })
      : route.fulfill({
          contentType: 'text/html',
          body: '<!doctype html><script type="module" src="idb-lab.js"></script>',
        }),
  );
  const page = await context.newPage();
  await page.goto('http://localhost:9/');
  await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
  const run = () =>
    page.evaluate(
      async (size) => {
        const { task } = window.checkpoint;
        // A Blob refuses a view of a resizable buffer: the store must copy it.
        // ES2024's resizable ArrayBuffer, which the ES2023 typings lack.
        const Resizable = ArrayBuffer as unknown as new (n: number, options: { maxByteLength: number }) => ArrayBuffer;
        const sized = task('resizable-sized', (n: number) => () => {
          const bytes = new Uint8Array(new Resizable(n, { maxByteLength: n + 8 }));
          for (let i = 0; i < n; i += 4093) bytes[i] = (i >>> 12) & 255;
          return bytes;
        });
        const events: string[] = [];
        try {
          const value = await sized(size).run({ onEvent: (event) => events.push(event.type) });
          let same = value.length === size;
          for (let i = 0; i < size && same; i += 4093) same = value[i] === ((i >>> 12) & 255);
          return { events, same };
        } catch (error) {
          return { events, same: false, error: String((error as Error).cause ?? error) };
        }
      },
      65 * 2 ** 20,
    );
  assert.deepEqual(await run(), { events: ['planned', 'started', 'finished'], same: true });
  assert.deepEqual(await run(), { events: ['planned', 'cached'], same: true });
  await context.close();
});
