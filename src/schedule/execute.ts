import { AbortError, CheckpointError, RunFailedError, TaskFailedError } from '../errors.js';
import type { RunEvent } from '../events.js';
import type { Executor } from '../executors/types.js';
import type { Graph } from '../graph.js';
import type { Instance, TaskDefinition } from '../instance.js';
import type { Plan } from '../plan.js';
import type { Store } from '../storage/types.js';
import { Computations } from './compute.js';
import { FOUND, isStopped, isThenable, STOPPED } from './outcomes.js';
import { Reporter } from './report.js';
import { Results } from './results.js';
import { Stopping } from './stopping.js';
import { StoreSlots } from './store-slots.js';

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
  readonly #results: Results;
  readonly #reporter: Reporter;
  readonly #stopping = new Stopping();
  readonly #slots: StoreSlots;
  readonly #computations: Computations;
  /** Stale inputs not yet computed, per node. */
  readonly #waiting: Int32Array;
  readonly #started: Uint8Array;
  readonly #lanes = new Map<TaskDefinition, Lane>();
  /** The lanes in the order they were made: iterated by `#pump` without an iterator object. */
  readonly #laneList: Lane[] = [];
  readonly #failures: TaskFailedError[] = [];
  #running = 0;
  #finished = false;
  #pumping = false;
  #settle!: { resolve: (value: unknown) => void; reject: (error: unknown) => void };

  constructor(context: ScheduleContext) {
    this.#context = context;
    const { graph, plan, store, executor, signal } = context;
    this.#nodes = graph.nodes;
    const n = graph.nodes.length;
    this.#root = n - 1;
    const results = new Results(graph, plan, store, (j) => this.#computations.recompute(j));
    this.#results = results;
    const stopUnlessKeepGoing = () => {
      if (!context.keepGoing) this.#stopping.stop();
    };
    this.#reporter = new Reporter(graph.nodes, context.emit, context.now, stopUnlessKeepGoing);
    this.#slots = new StoreSlots(n);
    this.#computations = new Computations({
      nodes: graph.nodes,
      store,
      executor,
      signal,
      results,
      reporter: this.#reporter,
      stopping: this.#stopping,
      slots: this.#slots,
      pump: () => this.#pump(),
      recomputeFailed: stopUnlessKeepGoing,
    });
    this.#waiting = new Int32Array(n);
    this.#started = new Uint8Array(n);
    this.done = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject };
    });
    this.#reporter.planned((i) => results.stamp(i) !== undefined);
    for (let i = 0; i < n; i++) {
      if (results.stamp(i) !== undefined) continue;
      for (let p = graph.dependencyStart[i]!; p < graph.dependencyStart[i + 1]!; p++) {
        const j = graph.dependencies[p]!;
        results.use(j);
        if (results.stamp(j) === undefined) this.#waiting[i]!++;
      }
    }
    // Nodes whose factory threw fail before anything starts; their dependents are then skipped.
    for (const [i, error] of graph.broken) {
      this.#started[i] = 1;
      this.#reporter.begin(i);
      this.#fail(i, error);
    }
    // Attached once the constructor's own events are told: a listener that aborts then is seen here.
    if (signal) {
      if (signal.aborted) this.#stopping.stop();
      else signal.addEventListener('abort', this.#stop, { once: true });
    }
    for (let i = 0; i < n; i++) {
      if (results.stamp(i) === undefined && this.#waiting[i] === 0 && !this.#started[i]) this.#enqueue(i);
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
    const stopping = this.#stopping;
    const slots = this.#slots;
    try {
      let progress = true;
      while (progress && !stopping.stopped && this.#running < limit && !slots.full) {
        progress = false;
        for (let l = 0; l < this.#laneList.length; l++) {
          const lane = this.#laneList[l] as Lane;
          if (lane.head < lane.ready.length && lane.running < lane.max) {
            this.#start(lane, lane.ready[lane.head++] as number);
            progress = true;
            if (this.#running >= limit || stopping.stopped || slots.full) break;
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
    this.#slots.enter(i);
    this.#reporter.begin(i);
    let outcome: unknown;
    try {
      outcome = this.#computations.compute(i, true);
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
    const results = this.#results;
    const { dependencies, dependencyStart } = this.#context.graph;
    for (let p = dependencyStart[i]!; p < dependencyStart[i + 1]!; p++) results.release(dependencies[p]!);
    if (outcome === FOUND) {
      this.#reporter.cached(i);
    } else {
      results.keep(i, outcome);
      this.#reporter.finished(i);
    }
    // Its result is available: dependents whose inputs are all there become ready.
    const { dependents, dependentStart } = this.#context.graph;
    for (let p = dependentStart[i]!; p < dependentStart[i + 1]!; p++) {
      const dependent = dependents[p]!;
      if (--this.#waiting[dependent]! === 0) this.#enqueue(dependent);
    }
    this.#ended(lane, i);
  }

  #failed(lane: Lane, i: number, cause: unknown): void {
    if (isStopped(cause, this.#context.signal)) {
      this.#started[i] = 0; // not computed before the run stopped: skipped
    } else {
      const instance = this.#nodes[i] as Instance<unknown>;
      this.#fail(i, new TaskFailedError(instance.task.id, instance.args, instance.label, cause));
    }
    this.#ended(lane, i);
  }

  /** Records a failure: reported, and the end of new work unless the run keeps going. */
  #fail(i: number, error: TaskFailedError): void {
    this.#failures.push(error);
    if (!this.#context.keepGoing) this.#stopping.stop();
    this.#reporter.failed(i, error);
  }

  #ended(lane: Lane, i: number): void {
    this.#slots.leave(i);
    this.#running--;
    lane.running--;
    this.#pump();
  }

  readonly #stop = (): void => {
    this.#stopping.stop();
    if (this.#running === 0) this.#finish();
  };

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    const results = this.#results;
    if (this.#reporter.listening) {
      for (let i = 0; i < this.#nodes.length; i++) {
        if (results.stamp(i) === undefined && !this.#started[i]) this.#reporter.skipped(i);
      }
    }
    if (results.holds(this.#root) || this.#failures.length > 0 || this.#stopping.stopped) this.#settleNow();
    // A cached root whose value turns out unreadable is recomputed first, and may fail, stop or
    // meet a listener that throws.
    else
      results.load(this.#root).then(
        () => this.#settleNow(),
        (error: unknown) => this.#settleNow(error),
      );
  }

  /**
   * Settles the run, whatever a listener did: with the failures, else with the listener's error,
   * else as cancelled, else with the root's value (or the error of recomputing it).
   */
  #settleNow(rootError?: unknown, aborted = this.#context.signal?.aborted): void {
    const { signal } = this.#context;
    // One signal may serve many runs: leave nothing of this one attached to it.
    signal?.removeEventListener('abort', this.#stop);
    // An async listener's promises first: one that rejects fails the run as a throw does. The run
    // is over meanwhile: a signal fired then cancels nothing.
    const listened = this.#reporter.settled();
    if (listened) {
      listened.then(() => this.#settleNow(rootError, aborted));
      return;
    }
    const failures = this.#failures;
    const { resolve, reject } = this.#settle;
    if (failures.length === 1) reject(failures[0]);
    else if (failures.length > 1) reject(new RunFailedError(failures));
    else if (this.#reporter.error) reject(this.#reporter.error);
    else if (aborted) reject(new AbortError('The run was cancelled', { cause: signal?.reason }));
    else if (rootError !== undefined)
      reject(rootError === STOPPED ? new CheckpointError('The run stopped') : rootError);
    else if (this.#results.holds(this.#root)) resolve(this.#results.value(this.#root));
    else this.#results.load(this.#root).then(resolve, reject);
  }
}
