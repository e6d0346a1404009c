/**
 * The options every worker pool takes, and their checks.
 * @module
 */
import { CheckpointError } from '../errors.js';
import { checkOption, isBoolean, isString } from '../options.js';

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
  call: string,
  options: PoolOptions,
  defaultSize: number,
): { readonly size: number; readonly name: string; readonly transfer: boolean; readonly cancelGrace: number } {
  const expect = (name: keyof PoolOptions, what: string, ok: (value: unknown) => boolean) =>
    checkOption(call, name, options[name], what, ok, CheckpointError);
  expect('size', 'a whole number from 1 and up', (value) => Number.isInteger(value) && (value as number) >= 1);
  expect('name', 'a string', isString);
  expect('transfer', 'a boolean', isBoolean);
  expect(
    'cancelGrace',
    'a number of milliseconds from 0 up (or Infinity)',
    (value) => typeof value === 'number' && value >= 0,
  );
  return {
    size: options.size ?? Math.max(1, defaultSize),
    name: options.name ?? 'worker',
    transfer: options.transfer ?? true,
    cancelGrace: options.cancelGrace ?? Number.POSITIVE_INFINITY,
  };
}
