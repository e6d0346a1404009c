import { AbortError } from '../errors.js';
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
      // A listener of that event may have cancelled the run: no computation starts after that.
      const { signal } = context;
      if (signal?.aborted)
        throw new AbortError('The run was cancelled before the job started', { cause: signal.reason });
      return runJob(job, context.instance, signal);
    },
  };
}
