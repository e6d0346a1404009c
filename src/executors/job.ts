import { TaskDefinitionError } from '../errors.js';
import type { Instance } from '../instance.js';
import { lookup } from '../registry.js';
import type { Job } from './types.js';

/**
 * Runs a job in this thread: calls the computation of `instance` (found by the job's task id and
 * key in this thread's registry when not given) with the job's inputs. In-process execution and
 * worker threads share this one path. Returns what the computation returns, a promise for an
 * async one, and throws what it throws.
 */
export function runJob(job: Job, instance: Instance<unknown> = find(job)): unknown {
  return instance.computation().compute(job.inputs);
}

function find(job: Job): Instance<unknown> {
  const task = lookup(job.task);
  if (!task) {
    throw new TaskDefinitionError(
      `Task \`${job.task}\` is not defined here: the module that defines it was not loaded in this thread`,
    );
  }
  return task.instance(job.key);
}
