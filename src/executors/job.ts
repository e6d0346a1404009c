import { AbortError, TaskDefinitionError } from '../errors.js';
import type { Instance } from '../instance.js';
import { lookup, registeredCount, replacedAnother } from '../registry.js';
import type { Job } from './types.js';
import { jobLabel } from './wire.js';

/**
 * Runs a job in this thread: calls the computation of `instance` (found by the job's task id and
 * key in this thread's registry when not given) with the job's inputs; the signal `currentSignal()`
 * gives it fires with `signal`. In-process execution and worker threads share this one path.
 * Returns what the computation returns, a promise for an async one, and throws what it throws.
 */
export function runJob(job: Job, instance: Instance<unknown> = find(job), signal?: AbortSignal): unknown {
  return instance.computation().compute(job.inputs, signal);
}

function find(job: Job): Instance<unknown> {
  // A worker loads its modules once: a task declared twice there is two tasks given one name, and
  // the thread that planned the job may hold the other one (or, for ids that differ in case, the
  // one this thread replaced, found here under the other spelling only).
  if (replacedAnother(job.task)) {
    throw new TaskDefinitionError(
      `Task \`${job.task}\` was declared more than once in this thread, differently (two modules giving one name to two tasks, say): which declaration the run means is unknown here, since the thread that planned it may have loaded them in another order; give each task a name or namespace of its own`,
    );
  }
  const task = lookup(job.task);
  if (!task) {
    // A thread with no task at all most often imported the tasks' module for its effects only,
    // and a bundler dropped that import.
    const none =
      registeredCount() === 0
        ? `, which defines no task at all (a bundler drops a bare \`import './tasks.js'\` when package.json says \`"sideEffects": false\`: import a name from it, or list it in \`sideEffects\`)`
        : '';
    throw new TaskDefinitionError(
      `Task \`${job.task}\` is not defined here: the module that defines it was not loaded in this thread${none}`,
    );
  }
  if (task.version !== job.version) {
    throw new TaskDefinitionError(
      `Task \`${job.task}\` is at version ${JSON.stringify(task.version)} here, but the run planned it at version ${JSON.stringify(job.version)}: this thread loaded another declaration of it (the task was declared again since, or the thread runs an older script): close the pool and start a new one`,
    );
  }
  return task.instance(job.key);
}

/**
 * The error of a job whose run was cancelled before the job started: still queued for a worker,
 * or, in process, cancelled by a listener of its `started` event. The run counts it as stopped.
 */
export function aborted(job: Job, signal: AbortSignal): AbortError {
  return new AbortError(`The run was cancelled before ${jobLabel(job)} started`, { cause: signal.reason });
}
