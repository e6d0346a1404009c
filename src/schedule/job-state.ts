import type { JobContext } from '../executors/types.js';
import type { Instance } from '../instance.js';

/** What a job's context asks of its run. */
export interface JobHost {
  readonly signal: AbortSignal | undefined;
  /** For each input of a node, whether no other dependent still needs it. */
  releasedOf(i: number): readonly boolean[];
  /** Reports that a node's computation really started, where the executor says. */
  startedAt(i: number, where: string): void;
}

/**
 * What the run gives the executor with one job: one object, its `released` flags worked out only
 * when an executor asks for them (a worker pool does; the in-process executor does not). With
 * `moving`, the executor may move the inputs no other dependent still needs to a worker instead
 * of copying them.
 */
export class JobState implements JobContext {
  readonly instance: Instance<unknown>;
  readonly #host: JobHost;
  readonly #node: number;
  readonly #moving: boolean;

  constructor(host: JobHost, node: number, instance: Instance<unknown>, moving: boolean) {
    this.#host = host;
    this.#node = node;
    this.instance = instance;
    this.#moving = moving;
  }

  get signal(): AbortSignal | undefined {
    return this.#host.signal;
  }

  get released(): readonly boolean[] | undefined {
    return this.#moving ? this.#host.releasedOf(this.#node) : undefined;
  }

  started(where: string): void {
    this.#host.startedAt(this.#node, where);
  }
}
