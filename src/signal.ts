import { CheckpointError } from './errors.js';
import { isThenable } from './schedule/outcomes.js';

/**
 * The signal of the run whose computation's synchronous part is running, if one is; `null` for a
 * run that cannot be cancelled.
 */
let current: AbortSignal | null | undefined;
/** What `currentSignal()` gave that computation, once it asked. */
let given: AbortController | undefined;
/** What it gave the computations whose synchronous part called the current one's, outermost first. */
const outerGiven: (AbortController | undefined)[] = [];
/**
 * The computations' own controllers that follow each run's signal: one listener on the run's
 * signal aborts them all, rather than one listener per computation on a signal the user may keep
 * for many runs (Node warns past 10, and what a computation leaves on its signal, as `fetch` does,
 * would pile up there). Each leaves its set once its computation has ended.
 */
const followers = new WeakMap<AbortSignal, Set<AbortController>>();

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
  given ??= follow(current);
  return given.signal;
}

/**
 * A computation's own controller, aborted with the run's signal. Without one, it never fires: a
 * new one for each computation, as one shared by the process would keep every listener they leave.
 */
function follow(source: AbortSignal | null): AbortController {
  const controller = new AbortController();
  if (source === null) return controller;
  if (source.aborted) {
    controller.abort(source.reason);
    return controller;
  }
  let set = followers.get(source);
  if (!set) {
    const created = new Set<AbortController>();
    followers.set(source, created);
    source.addEventListener(
      'abort',
      () => {
        followers.delete(source);
        for (const follower of created) follower.abort(source.reason);
      },
      { once: true },
    );
    set = created;
  }
  set.add(controller);
  return controller;
}

/**
 * Makes `signal` the run's signal of the computation about to be called (without one,
 * `currentSignal()` gives a signal that never fires); returns the one to restore after.
 */
export function enterComputation(signal: AbortSignal | undefined): AbortSignal | null | undefined {
  const outer = current;
  // Called from within another computation's synchronous part: its signal waits here.
  if (outer !== undefined) outerGiven.push(given);
  current = signal ?? null;
  given = undefined;
  return outer;
}

/**
 * Restores the run's signal of before {@link enterComputation}, once the computation has returned
 * `result`: the controller `currentSignal()` gave it stops following the run's signal when the
 * computation has ended (at once, or when `result` settles).
 */
export function leaveComputation(outer: AbortSignal | null | undefined, result: unknown): void {
  const controller = given;
  const source = current;
  current = outer;
  given = outer === undefined ? undefined : outerGiven.pop();
  const set = controller && source ? followers.get(source) : undefined;
  if (!set || !controller) return;
  const leave = () => {
    set.delete(controller);
  };
  if (isThenable(result)) Promise.resolve(result).then(leave, leave);
  else leave();
}
