/**
 * How many nodes may be in the store's hands when another starts: taking a lock, reading inputs,
 * writing a result. A node whose async computation is running does not count meanwhile, and
 * counts again, whatever the count, to write its result: new nodes wait, none that has started
 * does. Without a bound, a wide graph on a store with locks starts every ready node at once:
 * 10,000 lock files and writes queued in libuv, and as many promise chains kept alive for the
 * collector to copy, about twice the time of 64 at once.
 */
const STORE_IN_FLIGHT = 64;

/** Counts the nodes in the store's hands, each once. */
export class StoreSlots {
  #count = 0;
  readonly #holding: Uint8Array;

  constructor(nodes: number) {
    this.#holding = new Uint8Array(nodes);
  }

  /** Whether a new node must wait (see {@link STORE_IN_FLIGHT}). */
  get full(): boolean {
    return this.#count >= STORE_IN_FLIGHT;
  }

  enter(i: number): void {
    if (this.#holding[i]) return;
    this.#holding[i] = 1;
    this.#count++;
  }

  leave(i: number): void {
    if (!this.#holding[i]) return;
    this.#holding[i] = 0;
    this.#count--;
  }
}
