import { runJob } from './job.js';
import type { Executor } from './types.js';

/**
 * The default executor: runs every computation in the calling thread, concurrently for async
 * computations. Only the tasks' own `maxConcurrency` limits it. A computation's `currentSignal()`
 * fires with its run's `signal`.
 */
export function inProcess(): Executor {
  return {
    concurrency: Number.POSITIVE_INFINITY,
    execute(job, context) {
      context.started?.('main');
      return runJob(job, context.instance, context.signal);
    },
  };
}
