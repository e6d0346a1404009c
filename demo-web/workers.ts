/**
 * The executor of the demo: a pool of Web Workers, each loading tasks.worker.ts. The page keeps
 * the workers it created so that it can send them the delay setting.
 * @module
 */
import { type PoolExecutor, webPool } from 'checkpoint-tool/browser';
import type { DemoSettings } from './tasks.js';

/** A pool and the workers it made. */
export interface DemoPool {
  readonly executor: PoolExecutor;
  readonly size: number;
  /** Sends new settings to every worker; computations that start later use them. */
  apply(settings: DemoSettings): void;
  /** Terminates the workers. */
  close(): void;
}

/** Starts a pool of `size` workers with these settings. */
export function createPool(size: number, initial: DemoSettings): DemoPool {
  const workers = new Set<Worker>();
  let settings = initial;
  const executor = webPool({
    size,
    create: (name) => {
      const worker = new Worker(new URL('./tasks.worker.ts', import.meta.url), { type: 'module', name });
      // Posted before the pool's first job, so it is the first message the worker handles.
      worker.postMessage(settings);
      workers.add(worker);
      return worker;
    },
  });
  return {
    executor,
    size,
    apply(next) {
      settings = next;
      for (const worker of workers) worker.postMessage(settings);
    },
    close() {
      void executor.close();
      workers.clear();
    },
  };
}
