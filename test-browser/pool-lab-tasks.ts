/**
 * The tasks of the pool lab, loaded by its page (to build the graph) and by each of its workers
 * (to compute).
 * @module
 */
import { task } from 'checkpoint-tool/browser';

/** Ends its worker with `close()` (which fires no event in the page) when `how` is `'close'`. */
export const ends = task('ends', (how: string) => async () => {
  if (how === 'close') {
    (globalThis as unknown as { close(): void }).close();
    // The worker runs nothing more: the answer never comes.
    await new Promise(() => {});
  }
  return how;
});
