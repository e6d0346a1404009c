/**
 * A job as the worker pool holds it, from the pool's `execute` until it settles, and the errors it
 * may be settled with.
 * @module
 */
import { AbortError, CheckpointError, SerializationError } from '../errors.js';
import { aborted } from './job.js';
import type { Job, JobContext } from './types.js';
import { jobLabel } from './wire.js';

/** A job waiting for a worker or running on one, with how to settle the promise `execute` gave. */
export interface Pending {
  readonly job: Job;
  readonly context: JobContext;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** Listens to the run's signal: takes the job out of the queue, or asks its worker to stop it. */
  onAbort?: () => void;
  /** Once its run is cancelled, when the pool stops its worker if it still runs it (`cancelGrace`). */
  grace?: ReturnType<typeof setTimeout>;
  /** Whether its worker said it started it: a job not started is skipped by a cancelled run. */
  started?: boolean;
  /** Whether posting it moved buffers of its inputs to its worker: it cannot be posted again. */
  moved?: boolean;
  /** The worker that ended before starting it, when it has been given to another since. */
  lostBy?: string;
}

/** Reports a job `started` on a worker; a listener that throws fails the job. */
export function report(worker: string, pending: Pending): void {
  try {
    pending.context.started?.(worker);
  } catch (error) {
    pending.reject(error);
  }
}

/** Detaches the abort listener of a job leaving the queue or its worker; returns the job. */
export function detach(pending: Pending): Pending {
  if (pending.grace !== undefined) {
    clearTimeout(pending.grace);
    pending.grace = undefined;
  }
  if (pending.onAbort) {
    pending.context.signal?.removeEventListener('abort', pending.onAbort);
    pending.onAbort = undefined;
  }
  return pending;
}

/**
 * The error of a job still waiting or running when its pool is closed. In a run that was
 * cancelled, an {@link AbortError}, which the run counts as stopped, not failed: closing the pool
 * after cancelling (at shutdown) ends the jobs that cancelling alone would have let finish.
 */
export function closed(pending: Pending): Error {
  const { job, context } = pending;
  const { signal } = context;
  if (!signal?.aborted) return new CheckpointError(`The pool was closed before ${jobLabel(job)} finished`);
  if (!pending.started) return aborted(job, signal);
  return new AbortError(`The run was cancelled, then its pool closed while ${jobLabel(job)} was running`, {
    cause: signal.reason,
  });
}

/**
 * The error of a job whose worker stopped: while computing it, or before starting it when it
 * cannot be given to another worker (another already stopped before starting it, or its inputs'
 * buffers were moved to this one).
 */
export function stopped(worker: string, pending: Pending, reason: unknown): CheckpointError {
  const label = jobLabel(pending.job);
  let what = `${worker} stopped while computing ${label}`;
  if (stoppedTwice(pending)) {
    what = `${worker} stopped before starting ${label}, as ${pending.lostBy} did before it`;
  } else if (!pending.started) {
    what = `${worker} stopped before starting ${label}, whose inputs' buffers had been moved to it (see the pool's \`transfer\` option)`;
  }
  return new CheckpointError(`${what}: ${describeReason(reason)}`, { cause: reason });
}

/** Whether a job's worker stopped before starting it, as the worker given it first had. */
export function stoppedTwice(pending: Pending): boolean {
  return !pending.started && pending.lostBy !== undefined;
}

/**
 * The error of a job not started because two of the pool's workers in a row stopped before
 * starting a job, `failure` the error of that job, a moment ago: their modules fail to load, most
 * likely, and new workers would too.
 */
export function unloadable(job: Job, failure: CheckpointError): CheckpointError {
  return new CheckpointError(
    `${jobLabel(job)} was not started: the pool's workers stop before starting their jobs (${failure.message}); it starts new ones for jobs posted from ${WORKERS_RETRY_MS} ms after the last one stopped`,
    { cause: failure.cause },
  );
}

/** How long after two workers in a row stopped before starting a job the pool starts no new one. */
export const WORKERS_RETRY_MS = 1000;

/**
 * The error of a job that stopped in its worker as its `currentSignal()` asked, or that its worker
 * never started, having learnt first that its run was cancelled.
 */
export function stoppedEarly(pending: Pending): AbortError {
  const { job, context, started } = pending;
  if (!started && context.signal) return aborted(job, context.signal);
  return new AbortError(`The run was cancelled while ${jobLabel(job)} was running, and it stopped`, {
    cause: context.signal?.reason,
  });
}

/** The error of a job whose worker the pool stopped, `grace` ms after its run was cancelled. */
export function cut(pending: Pending, grace: number): AbortError {
  const { job, context } = pending;
  return new AbortError(
    `The run was cancelled while ${jobLabel(job)} was running, and its worker was stopped ${grace} ms later (the pool's \`cancelGrace\`)`,
    { cause: context.signal?.reason },
  );
}

/**
 * The error of a job whose call Comlink could not complete: Comlink's own error, or for a value
 * that structured clone cannot copy back, a {@link SerializationError} that says why.
 */
export function unsent(job: Job, error: unknown): unknown {
  if (!(error instanceof Error && error.message === 'Unserializable return value')) return error;
  return new SerializationError(
    `The value of ${jobLabel(job)} cannot be sent from its worker: structured clone cannot copy it (a buffer that an earlier result moved away: see the pool's \`transfer\` option)`,
    { cause: error },
  );
}

/** A worker's reason for stopping, as a message says it. */
export function describeReason(reason: unknown): string {
  if (reason instanceof Error) return reason.message;
  return String(reason);
}
