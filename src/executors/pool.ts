/**
 * The worker pool, the same on every platform: idle workers, the jobs waiting for one, the job
 * each worker is running. The Node and Web pools only make workers (see {@link Spawn}).
 * @module
 */
import { type Remote, transfer, wrap } from 'comlink';
import { CheckpointError } from '../errors.js';
import { aborted } from './job.js';
import {
  closed,
  cut,
  detach,
  type Pending,
  report,
  stopped,
  stoppedEarly,
  stoppedTwice,
  unloadable,
  unsent,
  WORKERS_RETRY_MS,
} from './pool-job.js';
import { type PoolOptions, poolSettings } from './pool-options.js';
import type { JobMessage, Outcome, WorkerApi } from './protocol.js';
import type { Spawn, SpawnedWorker } from './spawn.js';
import type { Executor, Job, JobContext } from './types.js';
import {
  fromEnvelope,
  isStartedNotice,
  jobLabel,
  packInputs,
  toEnvelope,
  transferables,
  unpackResult,
} from './wire.js';

export type { PoolOptions } from './pool-options.js';
export type { Spawn, SpawnedWorker } from './spawn.js';

/** An executor that runs jobs on a pool of workers. The run never closes it: call `close()`. */
export interface PoolExecutor extends Executor {
  /** How many workers it runs at most; also its `concurrency`. */
  readonly size: number;
  /** Runs one job on a worker; always asynchronous. */
  execute(job: Job, context: JobContext): Promise<unknown>;
  /**
   * Ends the pool: jobs waiting or running are rejected, the workers are stopped. Resolves when
   * they have stopped. Calling it again does nothing more.
   */
  close(): Promise<void>;
  /** The same as {@link PoolExecutor.close}. */
  terminate(): Promise<void>;
}

interface Slot {
  readonly name: string;
  readonly worker: SpawnedWorker;
  readonly run: Remote<WorkerApi>['run'];
  readonly abort: Remote<WorkerApi>['abort'];
  current: Pending | undefined;
  dead: boolean;
}

/**
 * Makes a pool executor on top of a platform's {@link Spawn}. A worker that dies fails only the
 * job it was running (Comlink would leave that call pending forever) and is replaced; a job it
 * had not started yet is given to another worker, once.
 */
export function createPool(call: string, spawn: Spawn, options: PoolOptions, defaultSize: number): PoolExecutor {
  return new Pool(call, spawn, options, defaultSize);
}

class Pool implements PoolExecutor {
  readonly size: number;
  readonly concurrency: number;
  readonly #spawn: Spawn;
  readonly #name: string;
  readonly #transfer: boolean;
  readonly #cancelGrace: number;
  readonly #slots = new Set<Slot>();
  readonly #idle: Slot[] = [];
  readonly #queue: Pending[] = [];
  #spawned = 0;
  #posts = 0;
  /**
   * The error of the last job that two workers in a row stopped before starting, and when: for
   * {@link WORKERS_RETRY_MS} after, jobs that would need a new worker fail at once rather than
   * each start two more that cannot load their modules either (a run that keeps going).
   */
  #notLoading: { readonly error: CheckpointError; readonly at: number } | undefined;
  #closing: Promise<void> | undefined;

  constructor(call: string, spawn: Spawn, options: PoolOptions, defaultSize: number) {
    const { size, name, transfer, cancelGrace } = poolSettings(call, options, defaultSize);
    this.size = size;
    this.concurrency = size;
    this.#spawn = spawn;
    this.#name = name;
    this.#transfer = transfer;
    this.#cancelGrace = cancelGrace;
  }

  execute(job: Job, context: JobContext): Promise<unknown> {
    if (this.#closing)
      return Promise.reject(new CheckpointError(`The pool is closed: ${jobLabel(job)} cannot run on it`));
    return new Promise((resolve, reject) => {
      // First in, first out: a job that shares an input with a later one is posted (and that
      // input copied) before the later job may move the input's buffers away.
      this.#enqueue({ job, context, resolve, reject }, 'last');
      this.#dispatch();
    });
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      for (const pending of this.#queue.splice(0)) detach(pending).reject(closed(pending));
      const stopping = [...this.#slots].map((slot) => this.#retire(slot, undefined));
      await Promise.all(stopping);
    })();
    return this.#closing;
  }

  terminate(): Promise<void> {
    return this.close();
  }

  /** Queues a job to wait for a worker, unless its run is cancelled: then it never starts. */
  #enqueue(pending: Pending, where: 'first' | 'last'): void {
    const { signal } = pending.context;
    if (signal?.aborted) {
      pending.reject(aborted(pending.job, signal));
      return;
    }
    if (signal) {
      pending.onAbort = () => {
        const at = this.#queue.indexOf(pending);
        if (at >= 0) this.#queue.splice(at, 1);
        pending.reject(aborted(pending.job, signal));
      };
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    if (where === 'first') this.#queue.unshift(pending);
    else this.#queue.push(pending);
  }

  /** Posts waiting jobs to idle workers, starting workers while fewer than `size` run. */
  #dispatch(): void {
    while (this.#queue.length > 0 && !this.#closing) {
      let slot = this.#idle.pop();
      if (!slot && this.#slots.size < this.size) {
        const notLoading = this.#notLoading;
        if (notLoading && performance.now() - notLoading.at < WORKERS_RETRY_MS) {
          const pending = detach(this.#queue.shift()!);
          pending.reject(unloadable(pending.job, notLoading.error));
          continue;
        }
        try {
          slot = this.#start();
        } catch (error) {
          detach(this.#queue.shift()!).reject(error);
          continue;
        }
      }
      if (!slot) return;
      this.#post(slot, this.#queue.shift()!);
    }
  }

  #start(): Slot {
    const name = `${this.#name}-${++this.#spawned}`;
    let slot: Slot | undefined;
    const died = (reason: unknown) => {
      if (slot) this.#died(slot, reason);
    };
    const worker = this.#spawn(name, died);
    const api = wrap<WorkerApi>(worker.endpoint);
    // Read `run` and `abort` once: every property read on a Comlink proxy makes a new proxy.
    const created: Slot = { name, worker, run: api.run, abort: api.abort, current: undefined, dead: false };
    slot = created;
    this.#slots.add(created);
    // Comlink passes over the notices, which carry no call's `id`.
    worker.endpoint.addEventListener('message', (event) => {
      if (isStartedNotice((event as MessageEvent).data)) this.#started(created);
    });
    const { lifeLock } = worker;
    // Asked before any job, so held before any job starts.
    if (lifeLock) {
      api.ready(lifeLock.name).then(
        (held) => held && lifeLock.held(),
        () => {},
      );
    }
    return created;
  }

  /**
   * The worker started its job: reported `started` now, not when it was posted, which would
   * count a new worker's start-up in the job's time.
   */
  #started(slot: Slot): void {
    const pending = slot.current;
    if (slot.dead || !pending || pending.started) return;
    pending.started = true;
    report(slot.name, pending);
  }

  #post(slot: Slot, pending: Pending): void {
    const { job, context } = pending;
    detach(pending);
    slot.current = pending;
    slot.worker.busy(true);
    const post = ++this.#posts;
    // Once posted, it runs to its end, or until it stops as its `currentSignal()` asks.
    const { signal } = context;
    if (signal) {
      pending.onAbort = () => {
        slot.abort(post, toEnvelope(signal.reason)).catch(() => {});
        if (this.#cancelGrace !== Number.POSITIVE_INFINITY) {
          pending.grace = setTimeout(() => this.#cut(slot, pending), this.#cancelGrace);
        }
      };
      signal.addEventListener('abort', pending.onAbort, { once: true });
    }
    let call: Promise<Outcome>;
    try {
      const inputs = packInputs(job);
      const message: JobMessage = { task: job.task, version: job.version, key: job.key, args: job.args, inputs, post };
      const movable = this.#transfer ? context.released : undefined;
      const buffers = transferables(inputs, movable);
      // Beyond the bytes packed for the trip, buffers of the inputs themselves: gone from here.
      // Looked for only where an input may move, as that walks the inputs again.
      pending.moved = movable?.includes(true) === true && buffers.length > transferables(inputs, false).length;
      call = slot.run(buffers.length > 0 ? transfer(message, buffers) : message, this.#transfer) as Promise<Outcome>;
    } catch (error) {
      call = Promise.reject(error);
    }
    call.then(
      (outcome) => {
        if (slot.current !== pending) return; // the worker died or the pool closed meanwhile
        this.#release(slot);
        if (!outcome.ok) pending.reject(outcome.aborted ? stoppedEarly(pending) : fromEnvelope(outcome.thrown));
        else {
          let value: unknown;
          try {
            value = unpackResult(job, outcome);
          } catch (error) {
            pending.reject(error);
            return;
          }
          pending.resolve(value);
        }
      },
      (error: unknown) => {
        // Comlink itself failed: the job or its value could not be cloned.
        if (slot.current !== pending) return;
        this.#release(slot);
        pending.reject(unsent(job, error));
      },
    );
  }

  /** The slot's job is settled: the worker is free for the next one. */
  #release(slot: Slot): void {
    if (slot.current) detach(slot.current);
    slot.current = undefined;
    if (slot.dead) return;
    slot.worker.busy(false);
    this.#idle.push(slot);
    this.#dispatch();
  }

  #died(slot: Slot, reason: unknown): void {
    if (slot.dead) return;
    const pending = slot.current;
    if (pending) detach(pending);
    void this.#retire(slot, reason);
    if (pending && !pending.started && !pending.moved && pending.lostBy === undefined) {
      // Posted as the worker ended between jobs (a Web Worker's `close()` is learnt late), or
      // while it loaded: another worker gets it, once, so that a worker that always ends fails it.
      pending.lostBy = slot.name;
      this.#enqueue(pending, 'first');
    } else if (pending) {
      // Failed there, it is reported started there, even if it never began.
      if (!pending.started) report(slot.name, pending);
      const error = stopped(slot.name, pending, reason);
      if (stoppedTwice(pending)) this.#notLoading = { error, at: performance.now() };
      pending.reject(error);
    }
    this.#dispatch();
  }

  /**
   * Stops the worker of a job still running `cancelGrace` after its run was cancelled: the job is
   * skipped, and a new worker takes the next job.
   */
  #cut(slot: Slot, pending: Pending): void {
    if (slot.current !== pending || slot.dead) return;
    void this.#retire(slot, 'cancelled');
    pending.reject(cut(pending, this.#cancelGrace));
    this.#dispatch();
  }

  /** Takes a worker out of the pool and stops it, failing its job if the pool is closing. */
  #retire(slot: Slot, reason: unknown): Promise<void> {
    slot.dead = true;
    this.#slots.delete(slot);
    const at = this.#idle.indexOf(slot);
    if (at >= 0) this.#idle.splice(at, 1);
    const pending = slot.current;
    slot.current = undefined;
    if (pending) detach(pending);
    if (pending && reason === undefined) pending.reject(closed(pending));
    return slot.worker.terminate().catch(() => {});
  }
}
