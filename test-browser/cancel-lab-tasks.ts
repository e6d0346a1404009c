/**
 * The tasks of the cancel lab, loaded by its page (to build the graph and compute in process) and
 * by each of its workers: computations that stop, or report, when their run is cancelled.
 * @module
 */
import { currentSignal, task } from 'checkpoint-tool/browser';

/** Where this code runs: a worker's name, or `main`. */
function where(): string {
  return (globalThis as { name?: string }).name || 'main';
}

/**
 * Fetches `path` (which the test's server holds open) with its `currentSignal()`: settles only
 * when the run is cancelled, rejecting with the signal's reason as `fetch` does.
 */
export const held = task('held', (path: string) => async () => {
  const signal = currentSignal();
  const response = await fetch(new URL(path, location.href), { signal });
  return response.text();
});

/** What a cancel reason looks like, as a value the cache stores. */
export function describeReason(reason: unknown): Record<string, unknown> {
  const error = reason as Error & { code?: unknown; detail?: unknown };
  return {
    isError: error instanceof Error,
    isDomException: error instanceof DOMException,
    name: error.name,
    message: error.message,
    code: error.code,
    detail: error.detail,
    stack: error.stack,
  };
}

/** Waits for its run to be cancelled, then returns where it ran and what its signal's `reason` looked like. */
export const reasonSeen = task('reasonSeen', (_tag: string) => () => {
  const signal = currentSignal();
  return new Promise<{ where: string; reason: Record<string, unknown> }>((resolve) => {
    const seen = () => resolve({ where: where(), reason: describeReason(signal.reason) });
    if (signal.aborted) seen();
    else signal.addEventListener('abort', seen, { once: true });
  });
});

/** Where it ran, at once. */
export const quick = task('quick', (n: number) => () => ({ n, where: where() }));
