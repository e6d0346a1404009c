import { decodeValue, encodeEntry } from './codec/entry.js';
import { AbortError, CheckpointError, RunFailedError, TaskFailedError } from './errors.js';
import type { RunEvent } from './events.js';
import type { Executor } from './executors/types.js';
import type { Graph } from './graph.js';
import type { Instance, TaskDefinition } from './instance.js';
import { isFresh, type Plan } from './plan.js';
import type { EntryMeta, Store } from './storage/types.js';

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
  readonly #values = new Map<number, unknown>();
  readonly #loads = new Map<number, Promise<unknown>>();
  readonly #started: Uint8Array;
  readonly #lanes = new Map<TaskDefinition, Lane>();
  readonly #failures: TaskFailedError[] = [];
  readonly #stampPrefix = randomHex(12);
  #stampCount = 0;
  #running = 0;
  #stopping = false;
  #finished = false;
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
    this.done = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    const time = context.now();
    if (context.emit) for (const instance of this.#nodes) context.emit({ type: 'planned', instance, time });
    for (let i = 0; i < n; i++) {
      if (this.#stamps[i] !== undefined) {
        context.emit?.({ type: 'cached', instance: this.#nodes[i] as Instance<unknown>, time });
        continue;
      }
      for (const j of graph.dependencies[i] as number[]) {
        this.#uses[j]!++;
        if (this.#stamps[j] === undefined) this.#waiting[i]!++;
      }
    }
    if (context.signal) {
      if (context.signal.aborted) this.#stopping = true;
      else context.signal.addEventListener('abort', () => this.#stop(), { once: true });
    }
    for (let i = 0; i < n; i++) {
      if (this.#stamps[i] === undefined && this.#waiting[i] === 0) this.#enqueue(i);
    }
    this.#pump();
  }

  #enqueue(i: number): void {
    const task = (this.#nodes[i] as Instance<unknown>).task;
    let lane = this.#lanes.get(task);
    if (!lane) {
      lane = { max: task.maxConcurrency, ready: [], head: 0, running: 0 };
      this.#lanes.set(task, lane);
    }
    lane.ready.push(i);
  }

  /** Starts ready nodes, one task after another, until a limit is reached or none is ready. */
  #pump(): void {
    const limit = this.#context.executor.concurrency;
    let progress = true;
    while (progress && !this.#stopping && this.#running < limit) {
      progress = false;
      for (const lane of this.#lanes.values()) {
        if (lane.head < lane.ready.length && lane.running < lane.max) {
          this.#start(lane, lane.ready[lane.head++] as number);
          progress = true;
          if (this.#running >= limit || this.#stopping) break;
        }
      }
    }
    if (this.#running === 0) this.#finish();
  }

  async #start(lane: Lane, i: number): Promise<void> {
    const instance = this.#nodes[i] as Instance<unknown>;
    const { executor, emit, now, signal, store } = this.#context;
    this.#running++;
    lane.running++;
    this.#started[i] = 1;
    const began = now();
    let unlock: (() => Promise<void>) | undefined;
    try {
      const dependencies = this.#context.graph.dependencies[i] as number[];
      const inputStamps = dependencies.map((j) => this.#stamps[j] as string);
      if (store.lock) {
        // Another process or tab may be computing this very entry: wait for it, then reuse its result.
        unlock = await store.lock(instance.task.id, instance.key);
        const meta = await store.readMeta(instance.task.id, instance.key);
        if (meta && isFresh(meta, instance, inputStamps)) {
          for (const j of dependencies) this.#release(j);
          this.#metas[i] = meta;
          emit?.({ type: 'cached', instance, time: now() });
          this.#completed(i, meta.stamp);
          return;
        }
      }
      let inputs = dependencies.map((j) => (this.#values.has(j) ? this.#values.get(j) : this.#load(j)));
      if (inputs.some((input) => input instanceof Promise)) inputs = await Promise.all(inputs);
      for (const j of dependencies) this.#release(j);
      // An input that no other dependent still needs may be moved to a worker instead of copied.
      const released = dependencies.map((j) => !this.#values.has(j) && !this.#loads.has(j));
      const value = await executor.execute(
        { task: instance.task.id, key: instance.key, args: instance.args, inputs },
        { signal, released, started: (worker) => emit?.({ type: 'started', instance, time: now(), worker }) },
      );
      const stamp = `${this.#stampPrefix}${(this.#stampCount++).toString(36)}`;
      const entry = encodeEntry(instance, value, stamp, inputStamps);
      await store.write(instance.task.id, instance.key, entry);
      if (this.#uses[i]! > 0 || i === this.#root) this.#values.set(i, value);
      emit?.({ type: 'finished', instance, time: now(), duration: now() - began });
      this.#completed(i, stamp);
    } catch (cause) {
      if (cause instanceof AbortError && signal?.aborted) {
        this.#started[i] = 0; // the executor did not start it before the run was cancelled: skipped
      } else {
        const error = new TaskFailedError(instance.task.id, instance.args, instance.label, cause);
        this.#failures.push(error);
        emit?.({ type: 'failed', instance, time: now(), duration: now() - began, error });
        if (!this.#context.keepGoing) this.#stopping = true;
      }
    } finally {
      await unlock?.().catch(() => {});
      this.#running--;
      lane.running--;
      this.#pump();
    }
  }

  /** Records a node's result as available under `stamp` and releases its dependents. */
  #completed(i: number, stamp: string): void {
    this.#stamps[i] = stamp;
    for (const dependent of this.#context.graph.dependents[i] as number[]) {
      if (--this.#waiting[dependent]! === 0) this.#enqueue(dependent);
    }
  }

  /** Reads a fresh node's stored value, once however many dependents need it. */
  #load(j: number): Promise<unknown> {
    let load = this.#loads.get(j);
    if (!load) {
      const instance = this.#nodes[j] as Instance<unknown>;
      const meta = this.#metas[j];
      load = this.#context.store.readValue(instance.task.id, instance.key).then((bytes) => {
        if (!meta || !bytes)
          throw new CheckpointError(`${instance.label}: its cached value disappeared during the run`);
        return decodeValue(meta, bytes);
      });
      this.#loads.set(j, load);
    }
    return load;
  }

  #release(j: number): void {
    if (--this.#uses[j]! === 0 && j !== this.#root) {
      this.#values.delete(j);
      this.#loads.delete(j);
    }
  }

  #stop(): void {
    this.#stopping = true;
    if (this.#running === 0) this.#finish();
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const { emit, now, signal } = this.#context;
    const time = now();
    for (let i = 0; i < this.#nodes.length; i++) {
      if (this.#stamps[i] === undefined && !this.#started[i]) {
        emit?.({ type: 'skipped', instance: this.#nodes[i] as Instance<unknown>, time });
      }
    }
    const failures = this.#failures;
    const { resolve, reject } = this.#settle;
    if (failures.length === 1) reject(failures[0]);
    else if (failures.length > 1) reject(new RunFailedError(failures));
    else if (signal?.aborted) reject(new AbortError('The run was cancelled', { cause: signal.reason }));
    else if (this.#values.has(this.#root)) resolve(this.#values.get(this.#root));
    else this.#load(this.#root).then(resolve, reject);
  }
}

function randomHex(bytes: number): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(bytes)), (b) => b.toString(16).padStart(2, '0')).join('');
}
