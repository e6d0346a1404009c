/**
 * The table of a task's instances by canonical key: an instance made is held for sure for about a
 * second, then only while something else holds it, so that a process making ever new instances (a
 * loop of runs over ids, a page reacting to input) keeps those it still uses, not every one it
 * ever made.
 *
 * Holding an instance weakly costs a `WeakRef` and a `FinalizationRegistry` entry, about a
 * microsecond: paid when the hold ends, in slices between other work, rather than when the
 * instance is made, in the middle of a run building a graph of 100,000.
 * @module
 */

/**
 * How long an instance is held at least, in ms. Ending the hold takes a turn of the event loop, and
 * so does collecting what a `WeakRef` points to (JavaScript keeps it until then): a loop whose
 * every step is a microtask (runs on the memory store) keeps what it makes until it yields.
 */
const HOLD_MS = 1000;
/** How many instances are moved to weak references in one turn of the event loop. */
const SLICE = 10_000;

/** A table of values by key, each held for sure until its hold ends, then while held elsewhere. */
export class InstanceTable<T extends object> {
  /** Held for sure: made since this table's hold began. */
  readonly #recent = new Map<string, T>();
  /** Held while something else holds them. */
  readonly #older = new Map<string, WeakRef<T>>();
  /** Forgets the key of a value that was collected, unless a newer value has it since. */
  readonly #collected = new FinalizationRegistry<string>((key) => {
    if (this.#older.get(key)?.deref() === undefined) this.#older.delete(key);
  });
  /** Whether this table has recent values, and so a place among {@link waiting}. */
  #holding = false;

  /** The value of `key`, while one is held. */
  get(key: string): T | undefined {
    const recent = this.#recent.get(key);
    if (recent !== undefined || this.#older.size === 0) return recent;
    return this.#older.get(key)?.deref();
  }

  /** Adds the value of `key` (which has none held) and gives it. */
  add(key: string, value: T): T {
    this.#recent.set(key, value);
    if (!this.#holding) {
      this.#holding = true;
      hold(this);
    }
    return value;
  }

  /**
   * Holds weakly from now on up to `budget` of the recent values; gives how many. Once none is
   * left, the table's hold is over.
   */
  release(budget: number): number {
    let released = 0;
    for (const [key, value] of this.#recent) {
      if (released === budget) return released;
      this.#older.set(key, new WeakRef(value));
      this.#collected.register(value, key);
      this.#recent.delete(key);
      released++;
    }
    this.#holding = false;
    return released;
  }

  /** Stops holding the recent values, without keeping them weakly either. */
  dropRecent(): void {
    this.#recent.clear();
  }

  /** Whether some values are still held for sure. */
  get holding(): boolean {
    return this.#holding;
  }
}

/**
 * The tables holding values for sure, oldest hold first. Held, not referred to by `WeakRef`s,
 * which JavaScript keeps until the event loop turns: a table whose task is declared again drops
 * its values instead (see `Definition.superseded`).
 */
const waiting: InstanceTable<object>[] = [];
/** The timer that ends the holds, while one is set. */
let timer: ReturnType<typeof setTimeout> | undefined;

function hold(table: InstanceTable<object>): void {
  waiting.push(table);
  if (timer === undefined) endHoldsIn(HOLD_MS);
}

function endHoldsIn(ms: number): void {
  timer = setTimeout(endHolds, ms);
  // Node: a timer that keeps no process alive.
  (timer as { unref?: () => void }).unref?.();
}

/** Ends the holds of up to {@link SLICE} values, oldest first; the rest in the next turn. */
function endHolds(): void {
  timer = undefined;
  let left = SLICE;
  while (waiting.length > 0 && left > 0) {
    const table = waiting[0] as InstanceTable<object>;
    left -= table.release(left);
    if (!table.holding) waiting.shift();
  }
  if (waiting.length > 0) endHoldsIn(0);
}
