/**
 * What a worker imports to serve its tasks to a pool. A browser worker file loads the module
 * that defines the tasks, then calls `serve()`:
 * ```ts
 * // Re-exported, not a bare `import './tasks.js'`, which a bundler drops under `"sideEffects": false`.
 * export * from './tasks.js';
 * import { serve } from 'checkpoint-tool/worker';
 * serve();
 * ```
 * Node pools need no worker file: `nodePool(moduleUrl)` does this in its own worker.
 * @module
 */
import { type Endpoint, expose, transfer } from 'comlink';
import { runJob } from './executors/job.js';
import type { Outcome, Packed, WorkerApi } from './executors/protocol.js';
import { fromEnvelope, pack, startedNotice, toEnvelope, transferables, unpackInputs } from './executors/wire.js';
import { isAbortOf } from './schedule/outcomes.js';

export type { Endpoint } from 'comlink';

/**
 * Answers a pool's jobs from this worker: each job names a task, which must be registered here,
 * by importing the module that defines it before calling `serve()`. Classes registered on
 * `serializer` must be registered here too (by that module, say): inputs and results holding
 * their instances travel between threads as the cache stores them. Call it once. It may come
 * after an `await` (a WASM module loading first): the messages a Web Worker receives meanwhile
 * wait for it.
 * @param endpoint - where jobs arrive; the worker's global scope by default (given or not, the
 *   messages it receives before `serve()` wait for it; those of another endpoint do not)
 */
export function serve(endpoint?: Endpoint): void {
  const kept = early?.stop() ?? [];
  early = undefined;
  // The scope given explicitly (`serve(self)`) gets the kept messages too.
  const scope = endpoint === undefined || endpoint === (globalThis as unknown);
  const port = scope ? replaying(globalThis as unknown as Endpoint, kept) : (endpoint as Endpoint);
  // Jobs wait until the lock asked by `ready` is held: a job that ends the worker before then
  // would leave the pool nothing to watch.
  let holding: Promise<boolean> | boolean = false;
  let first = true;
  // The post of the job posted last, from its arrival (before it starts) to its end: one at a time.
  let running: number | undefined;
  // That job's signal: the same for every job until it fires, as no computation holds it
  // (`currentSignal()` gives each its own, which stops following this one when it ends), and a
  // controller costs a few µs, about a tenth of a job's dispatch.
  let controller = new AbortController();
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
      // Running from now on for `abort`, which may come while the worker waits for its lock.
      if (controller.signal.aborted) controller = new AbortController();
      const { signal } = controller;
      running = job.post;
      let result: Packed;
      try {
        await holding;
        // The first job came while the worker loaded, and so may its abort, queued behind it: one
        // task later, that abort has been heard.
        if (first) {
          first = false;
          await new Promise((resolve) => setTimeout(resolve, 0));
        }
        // Its run was cancelled before it started: it never starts, as no new computation does then.
        if (signal.aborted) return { ok: false, thrown: toEnvelope(signal.reason), aborted: true };
        port.postMessage(startedNotice);
        const inputs = unpackInputs(job);
        // A result the cache cannot store fails here, as it would in the calling thread.
        result = pack(await runJob({ ...job, inputs }, undefined, signal));
      } catch (thrown) {
        return { ok: false, thrown: toEnvelope(thrown), aborted: isAbortOf(thrown, signal) };
      } finally {
        running = undefined;
      }
      const outcome: Outcome = { ok: true, ...result };
      const buffers = transferables([result], move);
      return buffers.length > 0 ? transfer(outcome, buffers) : outcome;
    },
    abort(post, reason) {
      if (running === post) controller.abort(fromEnvelope(reason));
    },
  };
  expose(api, port);
}

/**
 * The messages a dedicated worker receives before `serve()` listens, kept from when this module
 * loads (before the code of the module importing it runs): a worker drops the messages no
 * listener takes, and the pool would wait forever for the answers to its first calls.
 */
let early = keepEarlyMessages();

function keepEarlyMessages(): { stop(): MessageEvent[] } | undefined {
  const scope = globalThis as { DedicatedWorkerGlobalScope?: abstract new () => unknown };
  if (!scope.DedicatedWorkerGlobalScope || !(globalThis instanceof scope.DedicatedWorkerGlobalScope)) return undefined;
  const events: MessageEvent[] = [];
  const keep = (event: MessageEvent) => events.push(event);
  addEventListener('message', keep);
  return {
    stop() {
      removeEventListener('message', keep);
      return events;
    },
  };
}

/** The worker's scope as an endpoint whose listener also gets, at once, the messages kept before. */
function replaying(scope: Endpoint, kept: MessageEvent[]): Endpoint {
  return {
    postMessage: (message, transfer) => scope.postMessage(message, transfer),
    addEventListener(type, listener, options) {
      scope.addEventListener(type, listener, options);
      if (type !== 'message') return;
      for (const event of kept.splice(0)) {
        if (typeof listener === 'function') listener(event);
        else listener.handleEvent(event);
      }
    },
    removeEventListener: (type, listener, options) => scope.removeEventListener(type, listener, options),
  };
}
