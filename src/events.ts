import type { TaskFailedError } from './errors.js';
import type { Instance } from './instance.js';

/**
 * What happens to the instances of a run, in order. Every instance of the graph is `planned`, then
 * is either `cached` (its stored result is fresh and reused), `started` then `finished`, `failed`
 * or, in a cancelled run, `skipped` (it stopped as its `currentSignal()` asked), or `skipped` (not
 * run because the run stopped or something upstream failed).
 * `time` is milliseconds since the run began.
 */
export type RunEvent =
  | { readonly type: 'planned'; readonly instance: Instance<unknown>; readonly time: number }
  | { readonly type: 'cached'; readonly instance: Instance<unknown>; readonly time: number }
  | {
      readonly type: 'started';
      readonly instance: Instance<unknown>;
      readonly time: number;
      /** Where it runs: `'main'` in process, a worker's name in a pool. */
      readonly worker: string;
    }
  | {
      readonly type: 'finished';
      readonly instance: Instance<unknown>;
      readonly time: number;
      /** Milliseconds from start to stored result. */
      readonly duration: number;
    }
  | {
      readonly type: 'failed';
      readonly instance: Instance<unknown>;
      readonly time: number;
      readonly duration: number;
      readonly error: TaskFailedError;
    }
  | { readonly type: 'skipped'; readonly instance: Instance<unknown>; readonly time: number };

/** The kinds of {@link RunEvent}. */
export type RunEventType = RunEvent['type'];
