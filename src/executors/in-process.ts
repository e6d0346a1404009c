import { TaskDefinitionError } from '../errors.js';
import { shown } from '../options.js';
import { aborted, runJob } from './job.js';
import type { Executor } from './types.js';

/**
 * The default executor: runs every computation in the calling thread, concurrently for async
 * computations. Only the tasks' own `maxConcurrency` limits it. A computation's `currentSignal()`
 * fires with its run's `signal`.
 */
export function inProcess(): Executor;
export function inProcess(...given: unknown[]): Executor {
  // From JavaScript, `inProcess({ concurrency: 2 })` would run unlimited without a word.
  const options = given.find((value) => value !== undefined);
  if (options !== undefined) {
    throw new TaskDefinitionError(
      `inProcess(): expected no options, got ${shown(options)}: to limit how many instances of a task compute at once, give the task a \`maxConcurrency\`, or use a pool's \`size\``,
    );
  }
  return {
    concurrency: Number.POSITIVE_INFINITY,
    execute(job, context) {
      context.started?.('main');
      // A listener of that event may have cancelled the run: no computation starts after that.
      const { signal } = context;
      if (signal?.aborted) throw aborted(job, signal);
      return runJob(job, context.instance, signal);
    },
  };
}
