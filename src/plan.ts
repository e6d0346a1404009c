import type { Graph } from './graph.js';
import type { Instance } from './instance.js';
import type { EntryMeta, Store } from './storage/types.js';

/** Which results of a graph can be reused. */
export interface Plan {
  /** For each node, its stored entry's metadata when that entry is fresh, else `undefined`. */
  readonly fresh: readonly (EntryMeta | undefined)[];
}

/**
 * Decides what is fresh from metadata alone, never reading a value. An entry is fresh when it
 * exists, was computed under the task's current version, and from exactly the current stamps of
 * its inputs, all of them fresh. A recomputed result gets a new stamp, so everything downstream of
 * it is stale, and nothing else is.
 */
export async function plan(graph: Graph, store: Store, concurrency = 64): Promise<Plan> {
  const metas = await mapLimited(graph.nodes, concurrency, (instance) =>
    store.readMeta(instance.task.id, instance.key),
  );
  const fresh: (EntryMeta | undefined)[] = [];
  // Nodes are in dependency order, so each node's inputs are decided before it.
  graph.nodes.forEach((instance, i) => {
    const meta = metas[i];
    const inputs = (graph.dependencies[i] as readonly number[]).map((j) => fresh[j]?.stamp);
    fresh.push(meta && isFresh(meta, instance, inputs) ? meta : undefined);
  });
  return { fresh };
}

/**
 * The invalidation rule for one entry: computed under the task's current version, from exactly
 * the given current stamps of its inputs (`undefined` for an input that is not fresh).
 */
export function isFresh(
  meta: EntryMeta,
  instance: Instance<unknown>,
  inputs: readonly (string | undefined)[],
): boolean {
  return (
    meta.version === instance.task.version &&
    meta.inputs.length === inputs.length &&
    inputs.every((stamp, position) => stamp !== undefined && stamp === meta.inputs[position])
  );
}

/** Maps with at most `limit` calls pending at once, keeping the order of results. */
async function mapLimited<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}
