/**
 * What a worker imports to serve its tasks to a pool. A browser worker file loads the module
 * that defines the tasks, then calls `serve()`:
 * ```ts
 * import './tasks';
 * import { serve } from 'checkpoint-tool/worker';
 * serve();
 * ```
 * Node pools need no worker file: `nodePool(moduleUrl)` does this in its own worker.
 * @module
 */
import { type Endpoint, expose, transfer } from 'comlink';
import { runJob } from './executors/job.js';
import type { Outcome, Packed, WorkerApi } from './executors/protocol.js';
import { pack, toEnvelope, transferables, unpackInputs } from './executors/wire.js';

export type { Endpoint } from 'comlink';

/**
 * Answers a pool's jobs from this worker: each job names a task, which must be registered here,
 * by importing the module that defines it before calling `serve()`. Classes registered on
 * `serializer` must be registered here too (by that module, say): inputs and results holding
 * their instances travel between threads as the cache stores them. Call it once, at the top
 * level of the worker's module (not after an `await`), so that no early job is missed.
 * @param endpoint - where jobs arrive; the worker's global scope by default
 */
export function serve(endpoint: Endpoint = globalThis as unknown as Endpoint): void {
  // Jobs wait until the lock asked by `ready` is held: a job that ends the worker before then
  // would leave the pool nothing to watch.
  let holding: Promise<boolean> | boolean = false;
  const api: WorkerApi = {
    ready(lock) {
      const locks = globalThis.navigator?.locks;
      if (lock === undefined || !locks) return false;
      // Refused (a worker of an opaque origin: a `data:` URL), it is not watched.
      holding = new Promise<boolean>((resolve, reject) => {
        locks
          .request(lock, () => {
            resolve(true);
            return new Promise<never>(() => {});
          })
          .catch(reject);
      }).catch(() => false);
      return holding;
    },
    async run(job, move): Promise<Outcome> {
      await holding;
      let result: Packed;
      try {
        const inputs = unpackInputs(job);
        // A result the cache cannot store fails here, as it would in the calling thread.
        result = pack(await runJob({ task: job.task, key: job.key, args: job.args, inputs }));
      } catch (thrown) {
        return { ok: false, thrown: toEnvelope(thrown) };
      }
      const outcome: Outcome = { ok: true, ...result };
      const buffers = transferables([result], move);
      return buffers.length > 0 ? transfer(outcome, buffers) : outcome;
    },
  };
  expose(api, endpoint);
}
