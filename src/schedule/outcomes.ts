import { AbortError } from '../errors.js';

/** What a read gives for a value that is not stored. */
export const MISSING: unique symbol = Symbol('missing');

/**
 * What computing a node gives when, waiting for its lock, it found the entry stored fresh by
 * another process or tab meanwhile; otherwise computing it gives its value.
 */
export const FOUND: unique symbol = Symbol('found');

/**
 * Thrown for a node whose lock or inputs came after the run stopped (cancelled, or failed without
 * `keepGoing`): it is skipped rather than computed.
 */
export const STOPPED: unique symbol = Symbol('stopped');

/**
 * Whether what a computation threw means it was stopped rather than failed: {@link STOPPED}, or,
 * once the run's signal has fired, an executor's {@link AbortError} (a queued job rejected), or the
 * computation's own stop (it threw the signal's reason).
 */
export function isStopped(cause: unknown, signal: AbortSignal | undefined): boolean {
  return cause === STOPPED || (cause instanceof AbortError && signal?.aborted === true) || isAbortOf(cause, signal);
}

/**
 * Whether what a computation threw means that it stopped as its signal asked: the signal fired,
 * and it threw the signal's reason, as `fetch` and `signal.throwIfAborted()` do, or an error
 * whose `cause` is that reason, as Node's own APIs do (`timers/promises`, `events.once`,
 * `fs/promises`: their `AbortError`). Not any error named `AbortError`: a computation's own
 * aborted request is a failure like another.
 */
export function isAbortOf(thrown: unknown, signal: AbortSignal | undefined): boolean {
  if (signal?.aborted !== true) return false;
  const { reason } = signal;
  return thrown === reason || (thrown instanceof Error && Object.hasOwn(thrown, 'cause') && thrown.cause === reason);
}

/**
 * The values, once every one has settled: a node never ends while an input it asked for is still
 * being read or recomputed, so the run never settles before a recomputation's write. Rejects with
 * the first input's error in order, one that is not {@link STOPPED} first.
 */
export function allSettled(inputs: readonly unknown[]): Promise<unknown[]> {
  // All fulfilled, the usual case, costs what `Promise.all` does; the rest is waited for only
  // once one has failed.
  return Promise.all(inputs).catch(async (first: unknown) => {
    const outcomes = await Promise.allSettled(inputs);
    const failure = outcomes.find(
      (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected' && outcome.reason !== STOPPED,
    );
    // None but STOPPED: the first to reject was one.
    throw failure ? failure.reason : first;
  });
}

/** Whether a value is a promise or another thenable, to be awaited rather than used as it is. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise || typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

/** `bytes` random bytes in hexadecimal. */
export function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
