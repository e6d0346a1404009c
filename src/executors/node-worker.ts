/**
 * The worker thread of `nodePool`: imports the `setup` modules, then the module that defines the
 * tasks (registering tsx first when one of them is TypeScript), and serves jobs to the pool.
 * @module
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { parentPort, workerData } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { serve } from '../worker.js';

/** What `nodePool` tells each of its workers. */
export interface NodeWorkerData {
  /** The URL of the module that defines the tasks. */
  readonly module: string;
  /** URLs of modules to import before it, in order. */
  readonly setup: readonly string[];
}

if (parentPort) {
  const { module, setup } = workerData as NodeWorkerData;
  const modules = [...setup, module];
  if (modules.some((url) => /\.[cm]?tsx?$/.test(new URL(url).pathname))) await registerTsx(module);
  for (const url of modules) await import(url);
  // Messages that arrived meanwhile wait in the port until `serve` listens.
  serve(nodeEndpoint(parentPort));
}

/**
 * Node 20 does not pass the `--import tsx` of the main thread on to worker threads, so a worker
 * registers tsx itself: the copy next to this library, else the one the tasks' module sees.
 * Without tsx, Node is left to load the module by itself (type stripping, from Node 22.6).
 */
async function registerTsx(from: string): Promise<void> {
  let api: { register(): unknown } | undefined;
  try {
    api = await import('tsx/esm/api');
  } catch {
    try {
      const require = createRequire(from);
      const manifest = require.resolve('tsx/package.json');
      const { exports } = JSON.parse(readFileSync(manifest, 'utf8'));
      api = await import(new URL(exports['./esm/api'].import.default, pathToFileURL(manifest)).href);
    } catch {}
  }
  api?.register();
}
