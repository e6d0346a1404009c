import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { build } from 'vite';

/** The built demo (`npm run build:demo`). */
export const distDir = new URL('../demo-web/dist/', import.meta.url).pathname;
/** Where the tests save screenshots (gitignored). */
export const screenshotDir = new URL('../screenshots/', import.meta.url).pathname;

const types: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

/** A static server of the built demo on 127.0.0.1 and a free port. */
export async function serveDemo(): Promise<{ url: string; close(): Promise<void> }> {
  const server = createServer(async (request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    let file = join(distDir, path);
    if (!file.startsWith(distDir.slice(0, -1))) return void response.writeHead(403).end();
    try {
      if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
      await stat(file);
    } catch {
      return void response.writeHead(404).end('not found');
    }
    response.writeHead(200, { 'content-type': types[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Debian's Chromium, headless; nothing downloads a browser. */
export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: [
      '--no-sandbox',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-gpu',
    ],
  });
}

/** Collects a page's console warnings and errors, and fails loudly on uncaught page errors. */
export function watchConsole(page: Page): { warnings: string[]; errors: string[] } {
  const seen = { warnings: [] as string[], errors: [] as string[] };
  page.on('console', (message) => {
    if (message.type() === 'warning') seen.warnings.push(message.text());
    if (message.type() === 'error') seen.errors.push(message.text());
  });
  page.on('pageerror', (error) => seen.errors.push(`${error.name}: ${error.message}`));
  return seen;
}

/** choose(n, k) by the multiplicative formula, independent of the demo's Pascal recursion. */
export function chooseReference(n: number, k: number): bigint {
  let value = 1n;
  for (let i = 1; i <= k; i++) value = (value * BigInt(n - k + i)) / BigInt(i);
  return value;
}

// The graph shapes the Node tests use too.
export { chooseDownstream, chooseGraph } from '../test-node/helpers.js';

/** Labels in sorted order, to compare sets of instances. */
export const sorted = (labels: Iterable<string>): string[] => [...labels].sort();

/**
 * Bundles test pages (and their workers) from `entries` (output name: source path) as a user's
 * app bundles the library: ES modules, written to `outDir`.
 */
export async function bundleLab(outDir: string, entries: Record<string, string>): Promise<void> {
  await build({
    configFile: false,
    logLevel: 'warn',
    root: import.meta.dirname,
    build: { outDir, emptyOutDir: true, target: 'es2022', minify: false, lib: { entry: entries, formats: ['es'] } },
  });
}
