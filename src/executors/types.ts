/**
 * The executor interface: what runs one instance's computation. In-process by default; worker
 * pools implement the same interface.
 * @module
 */
import type { Instance } from '../instance.js';
import type { Json } from '../json.js';

/** One computation to run: which instance, and its inputs' values. */
export interface Job {
  /** The task's id (`namespace.name`, or `name`), as registered by `task(...)`. */
  readonly task: string;
  /**
   * The task's `version` as the run planned it: a thread whose declaration of the task has another
   * version (loaded before the task was declared again, or from an older script) refuses the job
   * rather than store one version's result under another.
   */
  readonly version: string;
  /** The instance's canonical argument key (`instance.key`): finds the instance without re-checking. */
  readonly key: string;
  /** The instance's arguments (canonical JSON values). */
  readonly args: readonly Json[];
  /** The values of the instances it requires, in declaration order. */
  readonly inputs: readonly unknown[];
}

/** What the run gives an executor with each job. */
export interface JobContext {
  /** Aborted when the run is cancelled; a job not yet started should then not start. */
  readonly signal?: AbortSignal;
  /**
   * For each input, whether the run keeps no other reference to it: an executor may then move
   * its buffers to another thread instead of copying them. Absent: copy every input.
   */
  readonly released?: readonly boolean[];
  /**
   * The job's instance itself: an executor that runs the job in the calling thread needs no
   * lookup by `job.task` and `job.key`.
   */
  readonly instance?: Instance<unknown>;
  /** Call when the job really starts, naming where it runs (a worker's name, say). */
  started?(where: string): void;
}

/**
 * Runs jobs. A run never closes or shuts down an executor it is given, so one executor serves
 * many runs.
 */
export interface Executor {
  /** How many jobs it can usefully run at once; a run dispatches no more than this. */
  readonly concurrency: number;
  /**
   * Runs one job: returns its value, or a promise of it, and throws or rejects with what the
   * computation threw. Returning a synchronous computation's value at once spares the run a
   * promise per job.
   */
  execute(job: Job, context: JobContext): unknown;
}
