import { STOPPED } from './outcomes.js';

/** Whether a run has stopped (cancelled, or failed without `keepGoing`), and what waits for that. */
export class Stopping {
  #stopped = false;
  /** What the nodes waiting for their lock do when the run stops: stop waiting. */
  readonly #onStop = new Set<() => void>();

  get stopped(): boolean {
    return this.#stopped;
  }

  stop(): void {
    this.#stopped = true;
    for (const stop of this.#onStop) stop();
    this.#onStop.clear();
  }

  /**
   * `promise`, or {@link STOPPED} as soon as the run stops while it is pending. Nothing of the
   * wait is kept once it settles (a race with one promise of the run's end would keep a reaction
   * per node until the end).
   */
  until<T>(promise: Promise<T>): Promise<T | typeof STOPPED> {
    if (this.#stopped) return Promise.resolve(STOPPED);
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
}
