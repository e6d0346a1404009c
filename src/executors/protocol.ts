/**
 * What crosses between a pool and its workers: the API a worker exposes through Comlink, the two
 * forms a value travels in, and the envelope of a thrown value. Types only; `wire.ts` and
 * `worker.ts` implement them.
 * @module
 */
import type { Job } from './types.js';

/**
 * An input or a result on its way between threads. Structured clone keeps a value's data but not
 * its classes, so it carries only values it copies faithfully (JSON-like data, `Map`, `Set`,
 * `Date`, `RegExp`, `BigInt`, buffers and the built-in typed arrays); any other value travels as
 * the bytes the cache would store for it, and is decoded on arrival.
 */
export type Packed = { readonly value: unknown } | { readonly bytes: Uint8Array };

/** A job as posted to a worker: its inputs {@link Packed}. */
export interface JobMessage extends Omit<Job, 'inputs'> {
  readonly inputs: readonly Packed[];
  /** Numbers the pool's posts, so that {@link WorkerApi.abort} reaches this job and no later one. */
  readonly post: number;
}

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
      /**
       * Whose class rebuilds it, besides the platform's error classes found by `name`: this
       * library's (it was one of this library's errors), or `DOMException` (whose `name`, such
       * as `'AbortError'`, names no class).
       */
      readonly family?: 'checkpoint' | 'DOMException';
      readonly message: string;
      readonly stack: string | undefined;
      /** The error's `cause`, when it has one. */
      readonly cause?: ThrownEnvelope;
      /** The members of an `AggregateError`. */
      readonly errors?: readonly ThrownEnvelope[];
      /** Other own enumerable properties that can be cloned (`code`, `errno`...). */
      readonly props: Readonly<Record<string, unknown>>;
      /**
       * For an error of a class registered with `serializer.registerClass`: the bytes the cache
       * would store for it, which rebuild it as that class where it is registered too.
       */
      readonly bytes?: Uint8Array;
    }
  | {
      readonly kind: 'value';
      /** Anything thrown that is not an `Error`, cloned, or its `String(...)` if it cannot be. */
      readonly value: unknown;
    };

/**
 * How a job ended in a worker: its value, {@link Packed}, or what it threw; `aborted` when it threw
 * after {@link WorkerApi.abort} the reason given (see `isAbortOf`), or was never started, its
 * abort having come first (`thrown` is then the reason).
 */
export type Outcome =
  | ({ readonly ok: true } & Packed)
  | { readonly ok: false; readonly thrown: ThrownEnvelope; readonly aborted?: boolean };

/** What a worker exposes to its pool. */
export interface WorkerApi {
  /**
   * Takes a Web Lock to hold for as long as the worker lives: a Web Worker that ends itself
   * (`close()`) fires no event, but its locks are released. The pool asks once per worker,
   * before its first job; jobs start once the lock is held. Answers whether it holds it.
   */
  ready(lock?: string): boolean | Promise<boolean>;
  /**
   * Runs a job with the tasks registered in the worker, posting a {@link StartedNotice} as it
   * starts it (the job's answer comes later). Never rejects for what the task throws,
   * nor for a result that cannot be stored: that comes back as `{ ok: false }`, so a rejection
   * always means the messaging itself failed.
   * @param transfer - move the result's buffers to the caller instead of copying them
   */
  run(job: JobMessage, transfer: boolean): Promise<Outcome>;
  /**
   * Fires the `currentSignal()` of the job posted as `post`, with `reason`, if the worker still
   * holds it: its run was cancelled. A job not started yet (its worker still loading) then never
   * starts; one that has ended is not affected, nor is any later job.
   */
  abort(post: number, reason: ThrownEnvelope): void;
}

/**
 * What a worker posts, beside Comlink's messages (which carry an `id`; this has none), as it
 * starts a job: the pool reports the job `started` then, and gives a job whose worker ended
 * before that notice to another worker.
 */
export interface StartedNotice {
  readonly checkpointTool: 'started';
}
