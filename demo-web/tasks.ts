/**
 * The demo's task, loaded both by the page (to build the graph) and by every Web Worker (to run
 * the computations). Nothing here knows where it runs. Each computation passes its
 * `currentSignal()` to `work` before its first `await`, as it must be.
 * @module
 */
import { type Compute, currentSignal, requires, task } from 'checkpoint-tool/browser';

/** Settings the page sends to each worker; they change how long a task takes, never its value. */
export interface DemoSettings {
  readonly type: 'demo-settings';
  /** The artificial delay of every computation, in milliseconds. */
  readonly delay: number;
  /** The instances the user broke, as `'n,k'`: their computation throws. */
  readonly broken: readonly string[];
}

let delay = 0;
let broken = new Set<string>();

/** Sets the artificial delay and the broken instances of the computations in this thread. */
export function applySettings(settings: DemoSettings): void {
  delay = Math.max(0, settings.delay);
  broken = new Set(settings.broken);
}

/** Whether a message is {@link DemoSettings}. */
export function isSettings(message: unknown): message is DemoSettings {
  return typeof message === 'object' && message !== null && (message as DemoSettings).type === 'demo-settings';
}

// The settings are read when a computation runs, so they are not part of any instance's arguments:
// moving the slider makes the next computations slower or faster but never invalidates a cached
// result, and breaking an instance only matters once it is cleared and computed again. The delay
// ends early, rejecting with the signal's reason, when the run is cancelled: the instance is then
// skipped, not failed.
async function work(n: number, k: number, signal: AbortSignal): Promise<void> {
  if (delay > 0) {
    await new Promise<void>((resolve, reject) => {
      const stop = () => {
        clearTimeout(timer);
        reject(signal.reason);
      };
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', stop);
        resolve();
      }, delay);
      if (signal.aborted) stop();
      else signal.addEventListener('abort', stop, { once: true });
    });
  }
  if (broken.has(`${n},${k}`)) throw new Error(`choose(${n}, ${k}) was broken on purpose, from the page`);
}

/**
 * The binomial coefficient by Pascal's rule, as BigInt: exact far beyond 2^53 (choose(60, 30) is
 * about 1.2e17). Arguments outside 0 ≤ k ≤ n fail when computed, so that the failure shows in the
 * graph and crosses the worker boundary as an error.
 */
export const choose = task('choose', (n: number, k: number): Compute<bigint> => {
  if (!Number.isInteger(n) || !Number.isInteger(k) || k < 0 || k > n) {
    return async () => {
      await work(n, k, currentSignal());
      throw new RangeError(`choose(n, k) needs whole numbers with 0 ≤ k ≤ n, got n = ${n} and k = ${k}`);
    };
  }
  if (k === 0 || k === n) {
    return async () => {
      await work(n, k, currentSignal());
      return 1n;
    };
  }
  return requires(
    choose(n - 1, k - 1),
    choose(n - 1, k),
  )(async (a, b) => {
    await work(n, k, currentSignal());
    return a + b;
  });
});
