import { decodeValue } from '../codec/entry.js';
import { CheckpointError, describe } from '../errors.js';
import type { Graph } from '../graph.js';
import type { Instance } from '../instance.js';
import type { Plan } from '../plan.js';
import { NONE } from '../requires.js';
import type { EntryMeta, Store } from '../storage/types.js';
import { allSettled, MISSING } from './outcomes.js';

/**
 * What a run knows of each node's result: its stamp (cached, or stored in this run), and its value
 * while dependents still need it.
 * A value is dropped from memory once every dependent has taken it, and read from the store where
 * it is not in memory: once however many dependents need it, and recomputed (by `recompute`) when
 * it is gone or unreadable.
 */
export class Results {
  readonly #graph: Graph;
  readonly #store: Store;
  readonly #root: number;
  readonly #recompute: (j: number) => Promise<unknown>;
  /** Dependents (per edge) that have not yet taken this node's value; at 0 the value is dropped. */
  readonly #uses: Int32Array;
  readonly #stamps: (string | undefined)[];
  /** Values computed in this run and still needed, where `#held` is 1. */
  readonly #values: unknown[];
  readonly #held: Uint8Array;
  readonly #loads = new Map<number, Promise<unknown>>();

  constructor(graph: Graph, plan: Plan, store: Store, recompute: (j: number) => Promise<unknown>) {
    const n = graph.nodes.length;
    this.#graph = graph;
    this.#store = store;
    this.#root = n - 1;
    this.#recompute = recompute;
    this.#stamps = plan.fresh.map((meta) => meta?.stamp);
    this.#uses = new Int32Array(n);
    this.#values = new Array(n);
    this.#held = new Uint8Array(n);
  }

  /** The node's current stamp: cached, or stored in this run; `undefined` while it is to be computed. */
  stamp(i: number): string | undefined {
    return this.#stamps[i];
  }

  /** Counts one more dependent that will take the node's value. */
  use(j: number): void {
    this.#uses[j]!++;
  }

  /** An entry fresh for the node's inputs, found stored by another process or tab meanwhile. */
  found(i: number, meta: EntryMeta): void {
    this.#stamps[i] = meta.stamp;
  }

  /** The node's value, computed in this run, is stored under `stamp`. */
  stored(i: number, stamp: string): void {
    this.#stamps[i] = stamp;
  }

  /** Keeps a computed value in memory while a dependent (or the run, for the root) needs it. */
  keep(i: number, value: unknown): void {
    if (this.#uses[i]! > 0 || i === this.#root) {
      this.#values[i] = value;
      this.#held[i] = 1;
    }
  }

  /** One dependent has taken the node's value: the last one drops it (never the root's). */
  release(j: number): void {
    if (--this.#uses[j]! === 0 && j !== this.#root) {
      this.#values[j] = undefined;
      this.#held[j] = 0;
      this.#loads.delete(j);
    }
  }

  /** Whether the node's value is in memory, and the value. */
  holds(i: number): boolean {
    return this.#held[i] === 1;
  }

  value(i: number): unknown {
    return this.#values[i];
  }

  /** The values of a node's inputs: read from the store where they are not in memory. */
  inputs(i: number): unknown[] | Promise<unknown[]> {
    const { dependencies, dependencyStart } = this.#graph;
    const start = dependencyStart[i]!;
    let loading = false;
    const inputs = new Array<unknown>(dependencyStart[i + 1]! - start);
    for (let d = 0; d < inputs.length; d++) {
      const j = dependencies[start + d]!;
      if (this.#held[j]) {
        inputs[d] = this.#values[j];
      } else {
        loading = true;
        inputs[d] = this.load(j);
      }
    }
    return loading ? allSettled(inputs) : inputs;
  }

  /** The current stamps of a node's inputs; loading an input may have recomputed it under a new stamp. */
  inputStamps(i: number): readonly string[] {
    const { dependencies, dependencyStart } = this.#graph;
    const start = dependencyStart[i]!;
    // Kept with the stored entry: a node without inputs (a leaf) shares one empty list rather than
    // keeping its own, and the others' are sized up front (one grown by `push` from empty keeps
    // room for 17 items however few it holds).
    if (dependencyStart[i + 1] === start) return NONE;
    const stamps = new Array<string>(dependencyStart[i + 1]! - start);
    for (let d = 0; d < stamps.length; d++) stamps[d] = this.#stamps[dependencies[start + d]!] as string;
    return stamps;
  }

  /** For each input of a node, whether no other dependent still needs it (never the root's value). */
  releasedOf(i: number): readonly boolean[] {
    const flags: boolean[] = [];
    const { dependencies, dependencyStart } = this.#graph;
    for (let p = dependencyStart[i]!; p < dependencyStart[i + 1]!; p++) {
      const j = dependencies[p]!;
      flags.push(this.#uses[j] === 1 && j !== this.#root);
    }
    return flags;
  }

  /**
   * Reads a fresh node's stored value, once however many dependents need it. A value that is gone
   * (evicted, or found corrupted and dropped by the store) or cannot be decoded is recomputed.
   */
  load(j: number): Promise<unknown> {
    let load = this.#loads.get(j);
    if (!load) {
      load = this.read(j).then(
        (value) => (value === MISSING ? this.#recompute(j) : value),
        (problem) => {
          const label = (this.#graph.nodes[j] as Instance<unknown>).label;
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

  /**
   * Reads and decodes a stored value, or gives {@link MISSING}: also when the entry no longer has
   * the node's stamp, replaced since it was planned or stored by another process or tab (running
   * another version of the task, say), whose value is not this one.
   */
  async read(j: number): Promise<unknown> {
    const instance = this.#graph.nodes[j] as Instance<unknown>;
    const store = this.#store;
    // Cached, or computed in this run and no longer in memory (recomputed for a dependent that has
    // taken it): read back under its stamp, rather than computed again.
    const stamp = this.#stamps[j];
    if (stamp === undefined) return MISSING;
    const entry = await store.readValue(instance.task.id, instance.key);
    if (entry instanceof Uint8Array) {
      // A store written for the interface before readValue gave the metadata with the bytes.
      throw new CheckpointError(
        `the store's readValue gave bytes alone; it gives { meta, value }, the entry's metadata with its bytes (see Store)`,
      );
    }
    return entry?.meta.stamp === stamp ? decodeValue(entry.meta, entry.value) : MISSING;
  }
}
