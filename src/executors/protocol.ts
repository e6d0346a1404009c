/**
 * What crosses between a pool and its workers: the API a worker exposes through Comlink, and the
 * envelope a thrown value travels in. Types only; `wire.ts` and `worker.ts` implement them.
 * @module
 */
import type { Job } from './types.js';

/**
 * A thrown value on its way between threads. Structured clone keeps only the built-in error
 * classes and drops everything else about an error, so an `Error` travels flattened, with the
 * name of its class, and is rebuilt on arrival.
 */
export type ThrownEnvelope =
  | {
      readonly kind: 'error';
      /** The error's `name`, or its class name when `name` was left at `'Error'`. */
      readonly name: string;
      readonly message: string;
      readonly stack: string | undefined;
      /** The error's `cause`, when it has one. */
      readonly cause?: ThrownEnvelope;
      /** The members of an `AggregateError`. */
      readonly errors?: readonly ThrownEnvelope[];
      /** Other own enumerable properties that can be cloned (`code`, `errno`...). */
      readonly props: Readonly<Record<string, unknown>>;
    }
  | {
      readonly kind: 'value';
      /** Anything thrown that is not an `Error`, cloned, or its `String(...)` if it cannot be. */
      readonly value: unknown;
    };

/** How a job ended in a worker: its value, or what it threw. */
export type Outcome =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly thrown: ThrownEnvelope };

/** What a worker exposes to its pool. */
export interface WorkerApi {
  /**
   * Runs a job with the tasks registered in the worker. Never rejects for what the task throws:
   * that comes back as `{ ok: false }`, so a rejection always means the messaging itself failed.
   * @param transfer - move the result's buffers to the caller instead of copying them
   */
  run(job: Job, transfer: boolean): Promise<Outcome>;
}
