/**
 * The options every worker pool takes, and their checks.
 * @module
 */
import { CheckpointError } from '../errors.js';
import { shown } from '../options.js';

/** Options shared by every pool. */
export interface PoolOptions {
  /**
   * How many workers to run at most: the most jobs running at once. Workers start on demand.
   * @default the number of cores
   */
  size?: number | undefined;
  /**
   * Workers are named `<name>-1`, `<name>-2`...: the `worker` of `started` events.
   * @default 'worker'
   */
  name?: string | undefined;
  /**
   * Move the buffers of inputs and results between threads instead of copying them. Turn it off
   * when a task returns a buffer that it also keeps (a table cached by its module, say), which a
   * move would leave empty in the worker.
   * @default true
   */
  transfer?: boolean | undefined;
  /**
   * How long, in milliseconds, a job may go on running once its run is cancelled, before its
   * worker is stopped (and replaced on demand): the job is then `skipped`, and nothing of it
   * stored. Cancelling fires the job's `currentSignal()` at once; this reaches the computations
   * that cannot see it, a synchronous one that never awaits above all. `0` stops the worker as the
   * run is cancelled.
   * @default Infinity: a job that ignores its signal finishes, and its value is stored
   */
  cancelGrace?: number | undefined;
}

/**
 * The pool's settings from its options, each checked: a pool made from JavaScript with a value of
 * the wrong kind (`transfer: 'no'`, which would count as true) fails at once, saying so.
 */
export function poolSettings(
  options: PoolOptions,
  defaultSize: number,
): { readonly size: number; readonly name: string; readonly transfer: boolean; readonly cancelGrace: number } {
  const size = options.size ?? Math.max(1, defaultSize);
  if (!Number.isInteger(size) || size < 1) {
    throw new CheckpointError(
      `Expected the pool's \`size\` to be a whole number from 1 and up, got ${shown(options.size)}`,
    );
  }
  if (options.name !== undefined && typeof options.name !== 'string') {
    throw new CheckpointError(`Expected the pool's \`name\` to be a string, got ${shown(options.name)}`);
  }
  if (options.transfer !== undefined && typeof options.transfer !== 'boolean') {
    throw new CheckpointError(`Expected the pool's \`transfer\` to be a boolean, got ${shown(options.transfer)}`);
  }
  const cancelGrace = options.cancelGrace ?? Number.POSITIVE_INFINITY;
  if (typeof cancelGrace !== 'number' || !(cancelGrace >= 0)) {
    throw new CheckpointError(
      `Expected the pool's \`cancelGrace\` to be a number of milliseconds from 0 up (or Infinity), got ${shown(options.cancelGrace)}`,
    );
  }
  return { size, name: options.name ?? 'worker', transfer: options.transfer ?? true, cancelGrace };
}
