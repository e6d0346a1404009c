/**
 * What a platform gives the worker pool: how to start a worker, and the worker it started.
 * @module
 */
import type { Endpoint } from 'comlink';

/** A started worker, as a platform makes it. */
export interface SpawnedWorker {
  /** Where the worker's messages come from and the pool's go: the pool wraps it with Comlink. */
  readonly endpoint: Endpoint;
  /** Whether the worker has a job: an idle Node worker does not keep the process alive. */
  busy(busy: boolean): void;
  /** Stops the worker; resolves when it has stopped. */
  terminate(): Promise<void>;
  /**
   * A Web Lock the worker is asked to hold while it lives, and what watches it once held: the
   * platform learns that way of an end that fires no event.
   */
  readonly lifeLock?: { readonly name: string; held(): void } | undefined;
}

/**
 * Starts a worker named `name`. The platform calls `died` once with the reason, if the worker
 * stops by itself or can no longer be trusted to answer (it crashed, ran out of memory, exited),
 * and only after the messages the worker posted before: its last job's start, in particular.
 */
export type Spawn = (name: string, died: (reason: unknown) => void) => SpawnedWorker;
