import { TaskDefinitionError } from '../errors.js';
import { lookup } from '../registry.js';
import type { Job } from './types.js';

/**
 * Runs a job in this thread: finds the task by id in this thread's registry, rebuilds the
 * instance from its arguments and calls its computation with the inputs. In-process execution
 * and worker threads share this one path. Returns what the computation returns, a promise for an
 * async one, and throws what it throws.
 */
export function runJob(job: Job): unknown {
  const task = lookup(job.task);
  if (!task) {
    throw new TaskDefinitionError(
      `Task \`${job.task}\` is not defined here: the module that defines it was not loaded in this thread`,
    );
  }
  return task.instance(job.key).computation().compute(job.inputs);
}
