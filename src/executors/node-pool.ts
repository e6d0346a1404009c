/**
 * The worker pool of Node.js: worker threads that load the module defining the tasks.
 * @module
 */
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type ResourceLimits, Worker } from 'node:worker_threads';
import nodeEndpoint from 'comlink/dist/esm/node-adapter.mjs';
import { CheckpointError } from '../errors.js';
import { checkOption, checkOptionNames, shown } from '../options.js';
import type { NodeWorkerData } from './node-worker.js';
import { createPool, type PoolExecutor, type PoolOptions, type Spawn } from './pool.js';

/** Options of {@link nodePool}. */
export interface NodePoolOptions extends PoolOptions {
  /**
   * Modules each worker imports before the tasks' module, as URLs or absolute paths: a loader
   * to register (`module.register(...)`), polyfills, globals. TypeScript modules need none when
   * tsx is installed: the worker registers it. Each is found as `moduleUrl` is.
   * @default []
   * @example
   * ```ts
   * nodePool(new URL('./tasks.js', import.meta.url), { setup: new URL('./register-loader.js', import.meta.url) })
   * ```
   */
  setup?: string | URL | readonly (string | URL)[] | undefined;
  /** Memory limits of each worker; a worker that exceeds them fails its job and is replaced. */
  resourceLimits?: ResourceLimits | undefined;
}

/**
 * A pool of worker threads. Each worker imports `moduleUrl`, the module that defines (or
 * imports) the tasks, and computes the jobs the run gives it; results come back to the calling
 * thread, which alone writes the cache. Close it when done.
 * @param moduleUrl - a URL or an absolute path. Name it as an import would, `./tasks.js`: a
 *   `.js` (`.mjs`, `.cjs`) file that does not exist stands for its TypeScript sibling
 *   (`tasks.ts`), as tsx resolves imports, so the same source works compiled and under tsx.
 *   TypeScript modules load through tsx when it is installed.
 * @example
 * ```ts
 * const pool = nodePool(new URL('./tasks.js', import.meta.url));
 * try {
 *   await total(2024).run({ executor: pool });
 * } finally {
 *   await pool.close();
 * }
 * ```
 */
export function nodePool(moduleUrl: URL | string, options: NodePoolOptions = {}): PoolExecutor {
  // From JavaScript, a misspelt option (`workers: 4`) would be left unused without a word.
  checkOptionNames('nodePool()', options ?? null, [
    'size',
    'name',
    'transfer',
    'cancelGrace',
    'setup',
    'resourceLimits',
  ]);
  checkResourceLimits(options.resourceLimits);
  const workerData: NodeWorkerData = {
    module: toModule(moduleUrl, 'moduleUrl'),
    setup: [options.setup ?? []].flat().map((url) => toModule(url, 'setup')),
  };
  const script = new URL('./node-worker.js', import.meta.url);
  const spawn: Spawn = (name, died) => {
    const worker = new Worker(script, { name, workerData, resourceLimits: options.resourceLimits });
    // An error may come before messages the worker posted earlier (that it started its job),
    // `exit` only after all of them: the worker is known dead then.
    let failure: unknown;
    worker.on('error', (error) => {
      failure ??= error;
    });
    worker.on('messageerror', died);
    worker.on('exit', (code) => died(failure ?? `it exited with code ${code}`));
    worker.unref();
    return {
      endpoint: nodeEndpoint(worker),
      busy: (busy) => (busy ? worker.ref() : worker.unref()),
      terminate: async () => {
        await worker.terminate();
      },
    };
  };
  return createPool('nodePool()', spawn, options, availableParallelism());
}

const RESOURCE_LIMITS: readonly string[] = [
  'maxOldGenerationSizeMb',
  'maxYoungGenerationSizeMb',
  'codeRangeSizeMb',
  'stackSizeMb',
] satisfies (keyof ResourceLimits)[];

/** Node takes any object as `resourceLimits`, and ignores what it does not know: a misspelt limit limits nothing. */
function checkResourceLimits(limits: unknown): void {
  const given = checkOptionNames('nodePool(): `resourceLimits`', limits, RESOURCE_LIMITS);
  const ok = (value: unknown) => typeof value === 'number' && value >= 0;
  for (const name of RESOURCE_LIMITS) {
    checkOption(
      'nodePool()',
      `resourceLimits.${name}`,
      given[name],
      'a number of megabytes (0: Node’s default)',
      ok,
      CheckpointError,
    );
  }
}

// What tsx tries for an import of a JavaScript file that is not there.
const typeScriptSiblings: Readonly<Record<string, readonly string[]>> = {
  '.js': ['.ts', '.tsx'],
  '.jsx': ['.tsx'],
  '.mjs': ['.mts'],
  '.cjs': ['.cts'],
};

/**
 * The URL of a module to import in the workers. A local JavaScript file that does not exist but
 * has a TypeScript sibling is that sibling: under tsx, `import './tasks.js'` loads `tasks.ts`,
 * and the workers must load the same module; compiled, `tasks.js` exists and is kept. A local
 * file that does not exist, nor such a sibling, is a `CheckpointError`.
 */
function toModule(value: URL | string, option: string): string {
  const url = new URL(toUrl(value, option));
  if (url.protocol !== 'file:') return url.href;
  const path = fileURLToPath(url);
  if (existsSync(path)) return url.href;
  const extension = /\.[cm]?jsx?$/.exec(path)?.[0];
  const siblings = extension === undefined ? [] : (typeScriptSiblings[extension] ?? []);
  const stem = path.slice(0, path.length - (extension?.length ?? 0));
  const sibling = siblings.map((ts) => stem + ts).find((candidate) => existsSync(candidate));
  if (!sibling) {
    // Said now, rather than by each job once a worker or two failed to load it.
    const typeScript =
      siblings.length > 0 ? `, nor does ${siblings.map((ts) => basename(stem + ts)).join(' or ')}` : '';
    throw new CheckpointError(`nodePool(): \`${option}\` names ${path}, which does not exist${typeScript}`);
  }
  url.pathname = pathToFileURL(sibling).pathname; // keeps a query or a hash
  return url.href;
}

function toUrl(value: URL | string, option: string): string {
  if (value instanceof URL) return value.href;
  if (typeof value !== 'string') {
    throw new CheckpointError(
      `nodePool(): expected \`${option}\` to be a URL or an absolute path, got ${shown(value)}`,
    );
  }
  if (isAbsolute(value)) return pathToFileURL(value).href;
  if (/^[a-z][a-z\d+.-]+:/i.test(value)) return value;
  throw new CheckpointError(
    `nodePool(): expected \`${option}\` to be a URL or an absolute path, got ${JSON.stringify(value)}; pass new URL(${JSON.stringify(value)}, import.meta.url)`,
  );
}
