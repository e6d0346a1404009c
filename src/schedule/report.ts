import { CheckpointError, describe, type TaskFailedError } from '../errors.js';
import type { RunEvent } from '../events.js';
import type { Instance } from '../instance.js';
import { isThenable } from './outcomes.js';

/**
 * Tells a run's listener what happens to each node, with times and durations. Without a listener
 * it does nothing, and keeps no start times. A listener that throws, or returns a promise that
 * rejects, fails the run, not the instance: the first error it threw is kept as the run's `error`,
 * and `onError` is called.
 */
export class Reporter {
  /** What the first listener that threw threw, as the run's error. */
  error: CheckpointError | undefined;
  readonly #nodes: readonly Instance<unknown>[];
  readonly #listener: ((event: RunEvent) => void) | undefined;
  readonly #now: () => number;
  readonly #onError: () => void;
  /** When each node started (dispatched, then reported started by its executor). */
  readonly #began: Float64Array;
  /** How many of the promises an async listener returned have not settled yet. */
  #unsettled = 0;
  /** Resolves the promise that {@link Reporter.settled} gave, once none is left unsettled. */
  #drained: (() => void) | undefined;

  constructor(
    nodes: readonly Instance<unknown>[],
    listener: ((event: RunEvent) => void) | undefined,
    now: () => number,
    onError: () => void,
  ) {
    this.#nodes = nodes;
    this.#listener = listener;
    this.#now = now;
    this.#onError = onError;
    this.#began = new Float64Array(listener ? nodes.length : 0);
  }

  /** Whether anyone listens: events cost nothing to skip. */
  get listening(): boolean {
    return this.#listener !== undefined;
  }

  /** Every node is planned; those given are cached, all at one time. */
  planned(cached: (i: number) => boolean): void {
    if (!this.#listener) return;
    const time = this.#now();
    for (const instance of this.#nodes) this.#tell({ type: 'planned', instance, time });
    for (let i = 0; i < this.#nodes.length; i++) if (cached(i)) this.cached(i);
  }

  /** Counts a node's duration from now: it was dispatched. */
  begin(i: number): void {
    if (this.#listener) this.#began[i] = this.#now();
  }

  /** A node really started, where the executor says: its duration counts from here (a new worker may have taken long to load). */
  started(i: number, worker: string): void {
    if (!this.#listener) return;
    const time = this.#now();
    this.#began[i] = time;
    this.#tell({ type: 'started', instance: this.#instance(i), time, worker });
  }

  cached(i: number): void {
    if (this.#listener) this.#tell({ type: 'cached', instance: this.#instance(i), time: this.#now() });
  }

  finished(i: number): void {
    if (!this.#listener) return;
    const time = this.#now();
    this.#tell({ type: 'finished', instance: this.#instance(i), time, duration: time - (this.#began[i] as number) });
  }

  failed(i: number, error: TaskFailedError): void {
    if (!this.#listener) return;
    const time = this.#now();
    const duration = time - (this.#began[i] as number);
    this.#tell({ type: 'failed', instance: this.#instance(i), time, duration, error });
  }

  skipped(i: number): void {
    if (this.#listener) this.#tell({ type: 'skipped', instance: this.#instance(i), time: this.#now() });
  }

  #instance(i: number): Instance<unknown> {
    return this.#nodes[i] as Instance<unknown>;
  }

  /**
   * Resolves once the promises an async listener returned so far have settled, or gives
   * `undefined` when there are none: the run settles after them, so that their rejections fail it.
   */
  settled(): Promise<void> | undefined {
    if (this.#unsettled === 0) return undefined;
    return new Promise((resolve) => {
      this.#drained = resolve;
    });
  }

  #tell(event: RunEvent): void {
    try {
      const returned: unknown = this.#listener?.(event);
      if (isThenable(returned)) this.#wait(event, returned);
    } catch (error) {
      this.#threw(event, error);
    }
  }

  /** Counts a promise the listener returned until it settles; kept, they would add up over a long run. */
  #wait(event: RunEvent, returned: PromiseLike<unknown>): void {
    this.#unsettled++;
    Promise.resolve(returned)
      .then(undefined, (error: unknown) => this.#threw(event, error))
      .then(() => {
        if (--this.#unsettled > 0) return;
        const drained = this.#drained;
        this.#drained = undefined;
        drained?.();
      });
  }

  #threw(event: RunEvent, error: unknown): void {
    this.error ??= new CheckpointError(
      `onEvent threw on the ${event.type} event of ${event.instance.label}: ${describe(error)}`,
      { cause: error },
    );
    this.#onError();
  }
}
