/**
 * The tasks of the pool lab, loaded by its page (to build the graph) and by each of its workers
 * (to compute).
 * @module
 */
import { requires, task } from 'checkpoint-tool/browser';

/** Ends its worker with `close()` (which fires no event in the page) when `how` is `'close'`. */
export const ends = task('ends', (how: string) => async () => {
  if (how === 'close') {
    (globalThis as unknown as { close(): void }).close();
    // The worker runs nothing more: the answer never comes.
    await new Promise(() => {});
  }
  return how;
});

/**
 * Gives `how`, and ends its worker with `close()` right after posting that answer: the page,
 * which learns of the end only later, posts the worker its next job meanwhile.
 */
export const endsNext = task('endsNext', (how: string) => () => {
  const scope = globalThis as unknown as { postMessage(...message: unknown[]): void; close(): void };
  const post = scope.postMessage;
  // The next message this worker posts is this job's answer.
  scope.postMessage = (...message: unknown[]) => {
    post.apply(scope, message);
    scope.close();
  };
  return how;
});

/** `endsNext(how)`'s value, computed after it: the job posted to the worker that ends. */
export const afterEnds = task('afterEnds', (how: string) => requires(endsNext(how))((value) => `after ${value}`));
