import { decodeValue, encodeEntry } from './codec/entry.js';
import { AbortError, CheckpointError, describe, RunFailedError, TaskFailedError } from './errors.js';
import type { RunEvent } from './events.js';
import type { Executor, JobContext } from './executors/types.js';
import type { Graph } from './graph.js';
import type { Instance, TaskDefinition } from './instance.js';
import { isFresh, type Plan } from './plan.js';
import type { EntryMeta, Store } from './storage/types.js';

/** What a read gives for a value that is not stored. */
const MISSING: unique symbol = Symbol('missing');

/**
 * What computing a node gives when, waiting for its lock, it found the entry stored fresh by
 * another process or tab meanwhile; otherwise computing it gives its value.
 */
const FOUND: unique symbol = Symbol('found');

/**
 * Thrown for a node whose lock or inputs came after the run stopped (cancelled, or failed without
 * `keepGoing`): it is skipped rather than computed.
 */
const STOPPED: unique symbol = Symbol('stopped');

/**
 * How many nodes may be in the store's hands when another starts: taking a lock, reading inputs,
 * writing a result. A node whose async computation is running does not count meanwhile, and
 * counts again, whatever the count, to write its result: new nodes wait, none that has started
 * does. Without a bound, a wide graph on a store with locks starts every ready node at once:
 * 10,000 lock files and writes queued in libuv, and as many promise chains kept alive for the
 * collector to copy, about twice the time of 64 at once.
 */
const STORE_IN_FLIGHT = 64;

/** What one execution of a planned graph needs. */
export interface ScheduleContext {
  readonly graph: Graph;
  readonly plan: Plan;
  readonly store: Store;
  readonly executor: Executor;
  readonly keepGoing: boolean;
  readonly signal: AbortSignal | undefined;
  readonly emit: ((event: RunEvent) => void) | undefined;
  readonly now: () => number;
}

/** The instances of one task that are ready, and how many of that task are running. */
interface Lane {
  readonly max: number;
  readonly ready: number[];
  head: number;
  running: number;
}

/**
 * Computes every stale node of a planned graph, greedily: a node is dispatched as soon as its
 * inputs are ready, within the executor's concurrency and its task's `maxConcurrency`. Each
 * result is stored before its dependents are released. Resolves to the root's value.
 */
export function execute(context: ScheduleContext): Promise<unknown> {
  return new Scheduler(context).done;
}

class Scheduler {
  readonly done: Promise<unknown>;
  readonly #context: ScheduleContext;
  readonly #nodes: readonly Instance<unknown>[];
  readonly #root: number;
  /** Stale inputs not yet computed, per node. */
  readonly #waiting: Int32Array;
  /** Dependents (per edge) that have not yet taken this node's value; at 0 the value is dropped. */
  readonly #uses: Int32Array;
  readonly #stamps: (string | undefined)[];
  /** The stored entry's metadata of each node whose stored value is to be reused. */
  readonly #metas: (EntryMeta | undefined)[];
  /** Values computed in this run and still needed, where `#held` is 1. */
  readonly #values: unknown[];
  readonly #held: Uint8Array;
  /** When each node started (dispatched, then reported started by its executor): only with a listener. */
  readonly #began: Float64Array;
  readonly #loads = new Map<number, Promise<unknown>>();
  readonly #started: Uint8Array;
  /** Nodes counted in `#inStore`, marked 1. */
  readonly #storing: Uint8Array;
  #inStore = 0;
  readonly #lanes = new Map<TaskDefinition, Lane>();
  /** The lanes in the order they were made: iterated by `#pump` without an iterator object. */
  readonly #laneList: Lane[] = [];
  readonly #failures: TaskFailedError[] = [];
  /** What the first listener that threw threw, as the run's error. */
  #listenerError: CheckpointError | undefined;
  /** What the nodes waiting for their lock do when the run stops: stop waiting. */
  readonly #onStop = new Set<() => void>();
  readonly #stampPrefix = randomHex(12);
  #stampCount = 0;
  #running = 0;
  #stopping = false;
  #finished = false;
  #pumping = false;
  #settle!: { resolve: (value: unknown) => void; reject: (error: unknown) => void };

  constructor(context: ScheduleContext) {
    this.#context = context;
    const { graph, plan } = context;
    this.#nodes = graph.nodes;
    const n = graph.nodes.length;
    this.#root = n - 1;
    this.#metas = [...plan.fresh];
    this.#stamps = plan.fresh.map((meta) => meta?.stamp);
    this.#waiting = new Int32Array(n);
    this.#uses = new Int32Array(n);
    this.#started = new Uint8Array(n);
    this.#storing = new Uint8Array(n);
    this.#values = new Array(n);
    this.#held = new Uint8Array(n);
    this.#began = new Float64Array(context.emit ? n : 0);
    this.done = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    const time = context.now();
    if (context.emit) for (const instance of this.#nodes) this.#emit({ type: 'planned', instance, time });
    for (let i = 0; i < n; i++) {
      if (this.#stamps[i] !== undefined) {
        if (context.emit) this.#emit({ type: 'cached', instance: this.#nodes[i] as Instance<unknown>, time });
        continue;
      }
      for (let p = graph.dependencyStart[i]!; p < graph.dependencyStart[i + 1]!; p++) {
        const j = graph.dependencies[p]!;
        this.#uses[j]!++;
        if (this.#stamps[j] === undefined) this.#waiting[i]!++;
      }
    }
    // Nodes whose factory threw fail before anything starts; their dependents are then skipped.
    for (const [i, error] of graph.broken) {
      this.#started[i] = 1;
      this.#fail(this.#nodes[i] as Instance<unknown>, time, error);
    }
    // Attached once the constructor's own events are told: a listener that aborts then is seen here.
    if (context.signal) {
      if (context.signal.aborted) this.#setStopping();
      else context.signal.addEventListener('abort', this.#stop, { once: true });
    }
    for (let i = 0; i < n; i++) {
      if (this.#stamps[i] === undefined && this.#waiting[i] === 0 && !this.#started[i]) this.#enqueue(i);
    }
    this.#pump();
  }

  #enqueue(i: number): void {
    const task = (this.#nodes[i] as Instance<unknown>).task;
    let lane = this.#lanes.get(task);
    if (!lane) {
      lane = { max: task.maxConcurrency, ready: [], head: 0, running: 0 };
      this.#lanes.set(task, lane);
      this.#laneList.push(lane);
    }
    lane.ready.push(i);
  }

  /**
   * Starts ready nodes, one task after another, until a limit is reached or none is ready. A node
   * that ends while this loop starts it (a synchronous computation that throws, say) leaves the
   * loop to go on, rather than starting a nested one.
   */
  #pump(): void {
    if (this.#pumping) return;
    this.#pumping = true;
    const limit = this.#context.executor.concurrency;
    try {
      let progress = true;
      while (progress && !this.#stopping && this.#running < limit && this.#inStore < STORE_IN_FLIGHT) {
        progress = false;
        for (let l = 0; l < this.#laneList.length; l++) {
          const lane = this.#laneList[l] as Lane;
          if (lane.head < lane.ready.length && lane.running < lane.max) {
            this.#start(lane, lane.ready[lane.head++] as number);
            progress = true;
            if (this.#running >= limit || this.#stopping || this.#inStore >= STORE_IN_FLIGHT) break;
          }
        }
      }
    } finally {
      this.#pumping = false;
    }
    if (this.#running === 0) this.#finish();
  }

  #start(lane: Lane, i: number): void {
    this.#running++;
    lane.running++;
    this.#started[i] = 1;
    this.#enterStore(i);
    // The start time is only ever reported in events.
    if (this.#context.emit) this.#began[i] = this.#context.now();
    let outcome: unknown;
    try {
      outcome = this.#compute(i, true);
    } catch (cause) {
      this.#failed(lane, i, cause);
      return;
    }
    if (isThenable(outcome)) {
      Promise.resolve(outcome).then(
        (settled) => this.#succeeded(lane, i, settled),
        (cause) => this.#failed(lane, i, cause),
      );
    } else {
      this.#succeeded(lane, i, outcome);
    }
  }

  #succeeded(lane: Lane, i: number, outcome: unknown): void {
    const { emit, now } = this.#context;
    const { dependencies, dependencyStart } = this.#context.graph;
    for (let p = dependencyStart[i]!; p < dependencyStart[i + 1]!; p++) this.#release(dependencies[p]!);
    if (outcome !== FOUND && (this.#uses[i]! > 0 || i === this.#root)) {
      this.#values[i] = outcome;
      this.#held[i] = 1;
    }
    if (emit) {
      const instance = this.#nodes[i] as Instance<unknown>;
      if (outcome === FOUND) this.#emit({ type: 'cached', instance, time: now() });
      else this.#emit({ type: 'finished', instance, time: now(), duration: now() - (this.#began[i] as number) });
    }
    this.#completed(i);
    this.#ended(lane, i);
  }

  #failed(lane: Lane, i: number, cause: unknown): void {
    const instance = this.#nodes[i] as Instance<unknown>;
    if (cause === STOPPED || (cause instanceof AbortError && this.#context.signal?.aborted)) {
      this.#started[i] = 0; // not computed before the run stopped: skipped
    } else {
      const error = new TaskFailedError(instance.task.id, instance.args, instance.label, cause);
      this.#fail(instance, this.#began[i] ?? 0, error);
    }
    this.#ended(lane, i);
  }

  /** Records a failure: reported, and the end of new work unless the run keeps going. */
  #fail(instance: Instance<unknown>, began: number, error: TaskFailedError): void {
    const { emit, now } = this.#context;
    this.#failures.push(error);
    if (!this.#context.keepGoing) this.#setStopping();
    if (emit) this.#emit({ type: 'failed', instance, time: now(), duration: now() - began, error });
  }

  /**
   * Tells the run's listener. A listener that throws fails the run, not the instance: the run
   * starts no new work (unless it keeps going) and rejects with what the listener threw, unless
   * instances failed, which it then reports instead.
   */
  #emit(event: RunEvent): void {
    try {
      this.#context.emit?.(event);
    } catch (error) {
      this.#listenerError ??= new CheckpointError(
        `onEvent threw on the ${event.type} event of ${event.instance.label}: ${describe(error)}`,
        { cause: error },
      );
      if (!this.#context.keepGoing) this.#setStopping();
    }
  }

  #setStopping(): void {
    this.#stopping = true;
    for (const stop of this.#onStop) stop();
    this.#onStop.clear();
  }

  /**
   * `promise`, or {@link STOPPED} as soon as the run stops while it is pending. Nothing of the
   * wait is kept once it settles (a race with one promise of the run's end would keep a reaction
   * per node until the end).
   */
  #untilStopped<T>(promise: Promise<T>): Promise<T | typeof STOPPED> {
    if (this.#stopping) return Promise.resolve(STOPPED);
    return new Promise((resolve, reject) => {
      const stop = () => resolve(STOPPED);
      this.#onStop.add(stop);
      promise.then(
        (value) => {
          this.#onStop.delete(stop);
          resolve(value);
        },
        (error: unknown) => {
          this.#onStop.delete(stop);
          reject(error);
        },
      );
    });
  }

  #ended(lane: Lane, i: number): void {
    this.#leaveStore(i);
    this.#running--;
    lane.running--;
    this.#pump();
  }

  /**
   * Computes one node from its inputs' values and stores the result under a new stamp: at once
   * when the inputs are in memory and the computation is synchronous, else once they resolve.
   * Where the store has locks, it first waits for any other process or tab computing the same
   * entry, and gives {@link FOUND} when that one stored an entry fresh for these inputs.
   */
  #compute(i: number, moving: boolean, unreadable?: string): unknown {
    const instance = this.#nodes[i] as Instance<unknown>;
    const { store } = this.#context;
    if (!store.lock) {
      const inputs = this.#inputs(i);
      return inputs instanceof Promise
        ? inputs.then((values) => this.#computeFrom(i, values, moving))
        : this.#computeFrom(i, inputs, moving);
    }
    const locked = Promise.resolve(store.lock(instance.task.id, instance.key));
    return this.#untilStopped(locked).then(async (unlock) => {
      if (unlock === STOPPED) {
        // The run stopped while this node waited for its lock: released as soon as it is taken.
        locked.then(
          (release) => release().catch(() => {}),
          () => {},
        );
        throw STOPPED;
      }
      try {
        const inputs = await this.#inputs(i);
        const meta = await store.readMeta(instance.task.id, instance.key);
        // Not the entry whose value could not be read: only one another tab stored since.
        if (meta && meta.stamp !== unreadable && isFresh(meta, instance, this.#inputStamps(i))) {
          this.#metas[i] = meta;
          this.#stamps[i] = meta.stamp;
          return FOUND;
        }
        return await this.#computeFrom(i, inputs, moving);
      } finally {
        await unlock().catch(() => {});
      }
    });
  }

  /** The values of a node's inputs: read from the store where they are not in memory. */
  #inputs(i: number): unknown[] | Promise<unknown[]> {
    const { dependencies, dependencyStart } = this.#context.graph;
    const start = dependencyStart[i]!;
    let loading = false;
    const inputs = new Array<unknown>(dependencyStart[i + 1]! - start);
    for (let d = 0; d < inputs.length; d++) {
      const j = dependencies[start + d]!;
      if (this.#held[j]) {
        inputs[d] = this.#values[j];
      } else {
        loading = true;
        inputs[d] = this.#load(j);
      }
    }
    return loading ? allSettled(inputs) : inputs;
  }

  /** The current stamps of a node's inputs; loading an input may have recomputed it under a new stamp. */
  #inputStamps(i: number): string[] {
    const { dependencies, dependencyStart } = this.#context.graph;
    const start = dependencyStart[i]!;
    // Sized up front: the list is kept with the stored entry, and one grown by `push` from empty
    // keeps room for 17 items however few it holds.
    const stamps = new Array<string>(dependencyStart[i + 1]! - start);
    for (let d = 0; d < stamps.length; d++) stamps[d] = this.#stamps[dependencies[start + d]!] as string;
    return stamps;
  }

  /**
   * Runs a node's computation on the executor and stores its value. With `moving`, the executor
   * may move the inputs no other dependent still needs to a worker instead of copying them.
   */
  #computeFrom(i: number, inputs: unknown[], moving: boolean): unknown {
    // Inputs read from the store, or a lock, may come after the run stopped.
    if (this.#stopping) throw STOPPED;
    const instance = this.#nodes[i] as Instance<unknown>;
    const inputStamps = this.#inputStamps(i);
    this.#leaveStore(i);
    const value = this.#context.executor.execute(
      { task: instance.task.id, key: instance.key, args: instance.args, inputs },
      new JobState(this, i, instance, moving),
    );
    // A synchronous computation's value is stored at once, with no promise and no closure.
    if (!isThenable(value)) return this.#store(i, value, inputStamps);
    // Computing, it is out of the store's hands: room for another node.
    this.#pump();
    return Promise.resolve(value).then((settled) => this.#store(i, settled, inputStamps));
  }

  /** Stores a node's computed value under a new stamp; gives the value once it is stored. */
  #store(i: number, value: unknown, inputStamps: readonly string[]): unknown {
    const instance = this.#nodes[i] as Instance<unknown>;
    const stamp = `${this.#stampPrefix}${(this.#stampCount++).toString(36)}`;
    const entry = encodeEntry(instance, value, stamp, inputStamps);
    const written = this.#context.store.write(instance.task.id, instance.key, entry);
    if (isThenable(written)) {
      // Not a node recomputed for a dependent (never started): that dependent counts already, and
      // may have ended, failing, before this write does.
      if (this.#started[i]) this.#enterStore(i);
      return Promise.resolve(written).then(
        () => {
          this.#leaveStore(i);
          this.#stored(i, stamp);
          return value;
        },
        (error: unknown) => {
          this.#leaveStore(i);
          throw error;
        },
      );
    }
    this.#stored(i, stamp);
    return value;
  }

  /** Counts a node as in the store's hands (see {@link STORE_IN_FLIGHT}), once. */
  #enterStore(i: number): void {
    if (this.#storing[i]) return;
    this.#storing[i] = 1;
    this.#inStore++;
  }

  #leaveStore(i: number): void {
    if (!this.#storing[i]) return;
    this.#storing[i] = 0;
    this.#inStore--;
  }

  #stored(i: number, stamp: string): void {
    this.#metas[i] = undefined;
    this.#stamps[i] = stamp;
  }

  /** For each input of a node, whether no other dependent still needs it (never the root's value). */
  releasedOf(i: number): readonly boolean[] {
    const flags: boolean[] = [];
    const { dependencies, dependencyStart } = this.#context.graph;
    for (let p = dependencyStart[i]!; p < dependencyStart[i + 1]!; p++) {
      const j = dependencies[p]!;
      flags.push(this.#uses[j] === 1 && j !== this.#root);
    }
    return flags;
  }

  /** Reports that a node's computation really started, where the executor says. */
  startedAt(i: number, where: string): void {
    const { emit, now } = this.#context;
    if (!emit) return;
    // Durations count from here: a new worker may have taken long to load before.
    const time = now();
    this.#began[i] = time;
    this.#emit({ type: 'started', instance: this.#nodes[i] as Instance<unknown>, time, worker: where });
  }

  get signal(): AbortSignal | undefined {
    return this.#context.signal;
  }

  /** Records a node's result as available and releases its dependents. */
  #completed(i: number): void {
    const { dependents, dependentStart } = this.#context.graph;
    for (let p = dependentStart[i]!; p < dependentStart[i + 1]!; p++) {
      const dependent = dependents[p]!;
      if (--this.#waiting[dependent]! === 0) this.#enqueue(dependent);
    }
  }

  /**
   * Reads a fresh node's stored value, once however many dependents need it. A value that is gone
   * (evicted, or found corrupted and dropped by the store) or cannot be decoded is recomputed.
   */
  #load(j: number): Promise<unknown> {
    let load = this.#loads.get(j);
    if (!load) {
      load = this.#read(j).then(
        (value) => (value === MISSING ? this.#recompute(j) : value),
        (problem) => {
          const label = (this.#nodes[j] as Instance<unknown>).label;
          console.warn(
            `checkpoint-tool: the cached value of ${label} is unreadable (${describe(problem)}); recomputing it`,
          );
          return this.#recompute(j);
        },
      );
      this.#loads.set(j, load);
    }
    return load;
  }

  /** Reads and decodes a stored value, or gives {@link MISSING}. */
  async #read(j: number): Promise<unknown> {
    const instance = this.#nodes[j] as Instance<unknown>;
    const { store } = this.#context;
    let meta = this.#metas[j];
    // Computed in this run and no longer in memory (recomputed for a dependent that has taken
    // it): read back under the stamp it was stored with, rather than computed again.
    if (!meta && this.#stamps[j] !== undefined) {
      const stored = await store.readMeta(instance.task.id, instance.key);
      if (stored?.stamp === this.#stamps[j]) meta = stored;
    }
    const bytes = meta && (await store.readValue(instance.task.id, instance.key));
    return meta && bytes ? decodeValue(meta, bytes) : MISSING;
  }

  /** Computes again a node whose cached value could not be read, for the dependent waiting on it. */
  async #recompute(j: number): Promise<unknown> {
    const instance = this.#nodes[j] as Instance<unknown>;
    const { emit, now } = this.#context;
    if (emit) this.#began[j] = now();
    const duration = () => now() - (this.#began[j] as number);
    try {
      let result = await this.#compute(j, false, this.#stamps[j]);
      // Found stored by another run meanwhile, then gone before it was read (cleared, evicted):
      // computed after all, a few times at most.
      for (let attempt = 1; result === FOUND; attempt++) {
        const value = await this.#read(j);
        if (value !== MISSING) return value;
        if (attempt === 3) throw new CheckpointError(`${instance.label}: its stored value vanished, three times`);
        result = await this.#compute(j, false, this.#stamps[j]);
      }
      if (emit) this.#emit({ type: 'finished', instance, time: now(), duration: duration() });
      return result;
    } catch (cause) {
      // The run stopped (an executor rejecting a queued job as cancelled, say): the dependent
      // waiting for it is skipped.
      if (cause === STOPPED || (cause instanceof AbortError && this.#context.signal?.aborted)) throw STOPPED;
      const error = new TaskFailedError(instance.task.id, instance.args, instance.label, cause);
      if (emit) this.#emit({ type: 'failed', instance, time: now(), duration: duration(), error });
      throw error;
    }
  }

  #release(j: number): void {
    if (--this.#uses[j]! === 0 && j !== this.#root) {
      this.#values[j] = undefined;
      this.#held[j] = 0;
      this.#loads.delete(j);
    }
  }

  readonly #stop = (): void => {
    this.#setStopping();
    if (this.#running === 0) this.#finish();
  };

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const { emit, now } = this.#context;
    const time = now();
    if (emit) {
      for (let i = 0; i < this.#nodes.length; i++) {
        if (this.#stamps[i] === undefined && !this.#started[i]) {
          this.#emit({ type: 'skipped', instance: this.#nodes[i] as Instance<unknown>, time });
        }
      }
    }
    if (this.#held[this.#root] || this.#failures.length > 0 || this.#stopping) this.#settleNow();
    // A cached root whose value turns out unreadable is recomputed first, and may fail, stop or
    // meet a listener that throws.
    else
      this.#load(this.#root).then(
        () => this.#settleNow(),
        (error: unknown) => this.#settleNow(error),
      );
  }

  /**
   * Settles the run, whatever a listener did: with the failures, else with the listener's error,
   * else as cancelled, else with the root's value (or the error of recomputing it).
   */
  #settleNow(rootError?: unknown): void {
    const { signal } = this.#context;
    // One signal may serve many runs: leave nothing of this one attached to it.
    signal?.removeEventListener('abort', this.#stop);
    const failures = this.#failures;
    const { resolve, reject } = this.#settle;
    if (failures.length === 1) reject(failures[0]);
    else if (failures.length > 1) reject(new RunFailedError(failures));
    else if (this.#listenerError) reject(this.#listenerError);
    else if (signal?.aborted) reject(new AbortError('The run was cancelled', { cause: signal.reason }));
    else if (rootError !== undefined)
      reject(rootError === STOPPED ? new CheckpointError('The run stopped') : rootError);
    else if (this.#held[this.#root]) resolve(this.#values[this.#root]);
    else this.#load(this.#root).then(resolve, reject);
  }
}

/**
 * What the run gives the executor with one job: one object, its `released` flags worked out only
 * when an executor asks for them (a worker pool does; the in-process executor does not).
 */
class JobState implements JobContext {
  readonly instance: Instance<unknown>;
  readonly #scheduler: Scheduler;
  readonly #node: number;
  readonly #moving: boolean;

  constructor(scheduler: Scheduler, node: number, instance: Instance<unknown>, moving: boolean) {
    this.#scheduler = scheduler;
    this.#node = node;
    this.instance = instance;
    this.#moving = moving;
  }

  get signal(): AbortSignal | undefined {
    return this.#scheduler.signal;
  }

  get released(): readonly boolean[] | undefined {
    return this.#moving ? this.#scheduler.releasedOf(this.#node) : undefined;
  }

  started(where: string): void {
    this.#scheduler.startedAt(this.#node, where);
  }
}

/**
 * The values, once every one has settled: a node never ends while an input it asked for is still
 * being read or recomputed, so the run never settles before a recomputation's write. Rejects with
 * the first input's error in order, one that is not {@link STOPPED} first.
 */
async function allSettled(inputs: readonly unknown[]): Promise<unknown[]> {
  const outcomes = await Promise.allSettled(inputs);
  let stopped = false;
  for (const outcome of outcomes) {
    if (outcome.status === 'fulfilled') continue;
    if (outcome.reason !== STOPPED) throw outcome.reason;
    stopped = true;
  }
  if (stopped) throw STOPPED;
  return outcomes.map((outcome) => (outcome as PromiseFulfilledResult<unknown>).value);
}

/** Whether a value is a promise or another thenable, to be awaited rather than used as it is. */
function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value instanceof Promise || typeof (value as PromiseLike<unknown> | null)?.then === 'function';
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
