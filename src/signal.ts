import { CheckpointError } from './errors.js';

/**
 * The signal of the computation whose synchronous part is running, if one is; `null` for one whose
 * run cannot be cancelled.
 */
let current: AbortSignal | null | undefined;

/**
 * The `AbortSignal` of the computation being called: it fires when the run computing it is
 * cancelled (the run's `signal` option fires), in process or in a pool's worker. Pass it on
 * (`fetch(url, { signal })`) or check it between steps (`signal.throwIfAborted()`), so that a long
 * computation stops early. A computation that then throws or rejects with the signal's `reason`
 * (as both of those do) is `skipped`, not failed, and nothing is stored for it; the run rejects
 * with its `AbortError`.
 *
 * Call it in the synchronous part of the computation, before its first `await`, and keep what it
 * returns: the library knows which computation is running only until the computation returns (or
 * returns its promise). Called elsewhere, it throws.
 * @example
 * ```ts
 * const page = task('page', (url: string) => async () => {
 *   const signal = currentSignal();
 *   return (await fetch(url, { signal })).text();
 * });
 * ```
 */
export function currentSignal(): AbortSignal {
  if (current === undefined) {
    throw new CheckpointError(
      'currentSignal() was called outside a computation, or after its first `await`: call it as the computation starts, as in `async () => { const signal = currentSignal(); ... }`',
    );
  }
  // A new one each time, never fired: one shared by every such computation of the process would
  // keep each listener they leave on it (`{ once: true }` ones included) for as long as it lives.
  return current ?? new AbortController().signal;
}

/**
 * Makes `signal` the current one while a computation is called (without one, `currentSignal()`
 * gives a signal that never fires); returns the one to restore after.
 */
export function enterComputation(signal: AbortSignal | undefined): AbortSignal | null | undefined {
  const outer = current;
  current = signal ?? null;
  return outer;
}

/** Restores the current signal of before {@link enterComputation}. */
export function leaveComputation(outer: AbortSignal | null | undefined): void {
  current = outer;
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
