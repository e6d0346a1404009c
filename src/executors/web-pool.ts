/**
 * The worker pool of browsers: Web Workers made by the page, each running a module that imports
 * the tasks and calls `serve()` from `checkpoint-tool/worker`.
 * @module
 */
import { CheckpointError } from '../errors.js';
import { checkOptionNames, shown } from '../options.js';
import { createPool, type PoolExecutor, type PoolOptions, type Spawn } from './pool.js';

/** Options of {@link webPool}. */
export interface WebPoolOptions extends PoolOptions {
  /**
   * Makes one worker; `name` (`worker-1`...) may be given to the `Worker` for devtools. Write the
   * `new Worker(new URL(...), ...)` call literally here: it is the form bundlers (Vite, webpack)
   * recognise and bundle.
   * @example
   * ```ts
   * create: (name) => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module', name })
   * ```
   */
  create: (name: string) => Worker;
}

/**
 * A pool of Web Workers. Each worker's module imports the module that defines the tasks and
 * calls `serve()`; results come back to the page, which alone writes the cache. Close it when
 * done.
 * @example
 * ```ts
 * // tasks.worker.ts: re-exports the tasks (a bare `import './tasks.js'` is dropped by a bundler
 * // under `"sideEffects": false`), then serves them
 * export * from './tasks.js';
 * import { serve } from 'checkpoint-tool/worker';
 * serve();
 *
 * // main.ts
 * const pool = webPool({
 *   create: () => new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module' }),
 * });
 * await total(2024).run({ executor: pool });
 * ```
 */
export function webPool(options: WebPoolOptions): PoolExecutor {
  // From JavaScript, a misspelt option (`workers: 4`) would be left unused without a word.
  checkOptionNames('webPool()', options ?? null, ['create', 'size', 'name', 'transfer', 'cancelGrace']);
  if (typeof options.create !== 'function') {
    throw new CheckpointError(
      `webPool(): expected \`create\` to be a function that makes a Worker, got ${shown(options.create)}`,
    );
  }
  const spawn: Spawn = (name, died) => {
    // Typed a Worker; from JavaScript, or an arrow function whose body forgot `return`, anything.
    const worker = options.create(name) as Worker | undefined;
    if (typeof worker?.addEventListener !== 'function') {
      throw new CheckpointError(
        `webPool's \`create\` returned ${shown(worker)}, not a Worker (does it \`return\` the new Worker?)`,
      );
    }
    // A Web Worker survives an uncaught error, but the job it was running may never answer:
    // the pool replaces it.
    worker.addEventListener('error', (event) => died(event.error ?? event.message ?? 'it failed to load or crashed'));
    worker.addEventListener('messageerror', () => died('a message from it could not be deserialized'));
    // A worker that calls `close()` fires no event: it holds a lock for its life, which the page
    // is granted when it ends (Web Locks exist in secure contexts only).
    const locks = globalThis.navigator?.locks;
    const lock = locks && `checkpoint-tool:worker:${crypto.randomUUID()}`;
    return {
      endpoint: worker,
      busy: () => {},
      terminate: async () => worker.terminate(),
      lifeLock: lock
        ? {
            name: lock,
            held: () =>
              void locks
                .request(lock, () => died('it ended without an error (it called close(), or the browser stopped it)'))
                .catch(() => {}),
          }
        : undefined,
    };
  };
  return createPool('webPool()', spawn, options, globalThis.navigator?.hardwareConcurrency ?? 4);
}
