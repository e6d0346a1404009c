import { encodeEntry } from '../codec/entry.js';
import { CheckpointError, TaskFailedError } from '../errors.js';
import type { Executor } from '../executors/types.js';
import type { Instance } from '../instance.js';
import { isFresh } from '../plan.js';
import type { Store } from '../storage/types.js';
import { type JobHost, JobState } from './job-state.js';
import { FOUND, isStopped, isThenable, MISSING, randomHex, STOPPED } from './outcomes.js';
import type { Reporter } from './report.js';
import type { Results } from './results.js';
import type { Stopping } from './stopping.js';
import type { StoreSlots } from './store-slots.js';

/** What computing nodes needs of its run. */
export interface ComputeContext {
  readonly nodes: readonly Instance<unknown>[];
  readonly store: Store;
  readonly executor: Executor;
  readonly signal: AbortSignal | undefined;
  readonly results: Results;
  readonly reporter: Reporter;
  readonly stopping: Stopping;
  readonly slots: StoreSlots;
  /** Lets the run start another node: one has left the store's hands to compute. */
  readonly pump: () => void;
  /**
   * A recomputation failed: the run starts no new work unless it keeps going, as when the
   * dependent waiting for it fails, which happens only once its other inputs have settled.
   */
  readonly recomputeFailed: () => void;
}

/**
 * Computes one node at a time from its inputs' values, on the executor, and stores the result
 * under a new stamp; also computes again a cached node whose value turned out unreadable.
 */
export class Computations implements JobHost {
  readonly signal: AbortSignal | undefined;
  readonly #context: ComputeContext;
  readonly #stampPrefix = randomHex(12);
  #stampCount = 0;

  constructor(context: ComputeContext) {
    this.#context = context;
    this.signal = context.signal;
  }

  /**
   * Computes a node and stores its value: at once when the inputs are in memory and the
   * computation is synchronous, else once they resolve. Where the store has locks, it first waits
   * for any other process or tab computing the same entry, and gives {@link FOUND} when that one
   * stored an entry fresh for these inputs. With `dispatched` (a node the run started, not one
   * recomputed for a dependent), the executor may move the inputs no other dependent still needs
   * to a worker instead of copying them, and its write counts in the store's hands.
   */
  compute(i: number, dispatched: boolean, unreadable?: string): unknown {
    const { nodes, store, results, stopping } = this.#context;
    const instance = nodes[i] as Instance<unknown>;
    if (!store.lock) {
      const inputs = results.inputs(i);
      return inputs instanceof Promise
        ? inputs.then((values) => this.#computeFrom(i, values, dispatched))
        : this.#computeFrom(i, inputs, dispatched);
    }
    const locked = Promise.resolve(store.lock(instance.task.id, instance.key, instance.task.version));
    return stopping.until(locked).then(async (unlock) => {
      if (unlock === STOPPED) {
        // The run stopped while this node waited for its lock: released as soon as it is taken.
        locked.then(
          (release) => release().catch(() => {}),
          () => {},
        );
        throw STOPPED;
      }
      try {
        const inputs = await results.inputs(i);
        const meta = await store.readMeta(instance.task.id, instance.key);
        // Not the entry whose value could not be read: only one another tab stored since.
        if (meta && meta.stamp !== unreadable && isFresh(meta, instance, results.inputStamps(i))) {
          results.found(i, meta);
          return FOUND;
        }
        return await this.#computeFrom(i, inputs, dispatched);
      } finally {
        await unlock().catch(() => {});
      }
    });
  }

  /** Computes again a node whose cached value could not be read, for the dependent waiting on it. */
  async recompute(j: number): Promise<unknown> {
    const { nodes, results, reporter } = this.#context;
    const instance = nodes[j] as Instance<unknown>;
    reporter.begin(j);
    try {
      let result = await this.compute(j, false, results.stamp(j));
      // Found stored by another run meanwhile, then gone before it was read (cleared, evicted):
      // computed after all, a few times at most.
      for (let attempt = 1; result === FOUND; attempt++) {
        const value = await results.read(j);
        if (value !== MISSING) return value;
        if (attempt === 3) throw new CheckpointError(`${instance.label}: its stored value vanished, three times`);
        result = await this.compute(j, false, results.stamp(j));
      }
      reporter.finished(j);
      return result;
    } catch (cause) {
      // The run stopped (an executor rejecting a queued job as cancelled, say): the dependent
      // waiting for it is skipped.
      if (isStopped(cause, this.signal)) throw STOPPED;
      const error = new TaskFailedError(instance.task.id, instance.args, instance.label, cause);
      reporter.failed(j, error);
      this.#context.recomputeFailed();
      throw error;
    }
  }

  releasedOf(i: number): readonly boolean[] {
    return this.#context.results.releasedOf(i);
  }

  startedAt(i: number, where: string): void {
    this.#context.reporter.started(i, where);
  }

  /** Runs a node's computation on the executor and stores its value. */
  #computeFrom(i: number, inputs: unknown[], dispatched: boolean): unknown {
    const { nodes, executor, results, stopping, slots } = this.#context;
    // Inputs read from the store, or a lock, may come after the run stopped.
    if (stopping.stopped) throw STOPPED;
    const instance = nodes[i] as Instance<unknown>;
    const inputStamps = results.inputStamps(i);
    slots.leave(i);
    const value = executor.execute(
      { task: instance.task.id, version: instance.task.version, key: instance.key, args: instance.args, inputs },
      new JobState(this, i, instance, dispatched),
    );
    // A synchronous computation's value is stored at once, with no promise and no closure.
    if (!isThenable(value)) return this.#store(i, value, inputStamps, dispatched);
    // Computing, it is out of the store's hands: room for another node.
    this.#context.pump();
    return Promise.resolve(value).then((settled) => this.#store(i, settled, inputStamps, dispatched));
  }

  /** Stores a node's computed value under a new stamp; gives the value once it is stored. */
  #store(i: number, value: unknown, inputStamps: readonly string[], dispatched: boolean): unknown {
    const { nodes, store, results, slots } = this.#context;
    const instance = nodes[i] as Instance<unknown>;
    const stamp = `${this.#stampPrefix}${(this.#stampCount++).toString(36)}`;
    const entry = encodeEntry(instance, value, stamp, inputStamps);
    const written = store.write(instance.task.id, instance.key, entry);
    if (isThenable(written)) {
      // Not a node recomputed for a dependent: that dependent counts already.
      if (dispatched) slots.enter(i);
      return Promise.resolve(written).then(
        () => {
          slots.leave(i);
          results.stored(i, stamp);
          return value;
        },
        (error: unknown) => {
          slots.leave(i);
          throw error;
        },
      );
    }
    results.stored(i, stamp);
    return value;
  }
}
