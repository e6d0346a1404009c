import { CheckpointError, describe } from './errors.js';
import type { Graph } from './graph.js';
import type { Instance } from './instance.js';
import { mapLimited } from './map-limited.js';
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
  const metas = await readMetas(graph.nodes, store, concurrency);
  const fresh: (EntryMeta | undefined)[] = [];
  // Nodes are in dependency order, so each node's inputs are decided before it.
  graph.nodes.forEach((instance, i) => {
    const meta = metas[i];
    const inputs: (string | undefined)[] = [];
    if (meta) {
      for (let p = graph.dependencyStart[i]!; p < graph.dependencyStart[i + 1]!; p++) {
        inputs.push(fresh[graph.dependencies[p]!]?.stamp);
      }
    }
    // A node whose factory threw has unknown inputs: never fresh.
    fresh.push(meta && !graph.broken.has(i) && isFresh(meta, instance, inputs) ? meta : undefined);
  });
  return { fresh };
}

/**
 * {@link plan}, unless `signal` fires first: then at once a plan where nothing is fresh, which the
 * run, cancelled, skips whole. Reads already asked of the store end unwatched; none is asked when
 * the signal fired before.
 */
export async function planUnlessCancelled(graph: Graph, store: Store, signal: AbortSignal | undefined): Promise<Plan> {
  const nothing = (): Plan => ({ fresh: graph.nodes.map(() => undefined) });
  if (!signal) return plan(graph, store);
  if (signal.aborted) return nothing();
  const planning = plan(graph, store);
  let cancelled!: () => void;
  const stop = new Promise<Plan>((resolve) => {
    cancelled = () => resolve(nothing());
  });
  signal.addEventListener('abort', cancelled, { once: true });
  try {
    return await Promise.race([planning, stop]);
  } finally {
    signal.removeEventListener('abort', cancelled);
    // Failing after the run gave up on it, a read concerns nobody.
    planning.catch(() => {});
  }
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

/**
 * Reads the metadata of every instance, in their order: with `readMetas`, one call per task
 * folder, else one `readMeta` per instance, at most `concurrency` pending at once.
 */
async function readMetas(
  instances: readonly Instance<unknown>[],
  store: Store,
  concurrency: number,
): Promise<(EntryMeta | undefined)[]> {
  if (!store.readMetas) {
    return mapLimited(instances, concurrency, (instance) =>
      store.readMeta(instance.task.id, instance.key).catch((error: unknown) => {
        throw unreadable(instance.task.id, error);
      }),
    );
  }
  const readBatch = store.readMetas.bind(store);
  const byFolder = new Map<string, number[]>();
  instances.forEach((instance, i) => {
    const positions = byFolder.get(instance.task.id);
    if (positions) positions.push(i);
    else byFolder.set(instance.task.id, [i]);
  });
  const metas = new Array<EntryMeta | undefined>(instances.length);
  // A few folders at once: enough to overlap them, few enough to bound what is in flight.
  await mapLimited([...byFolder], 4, async ([folder, positions]) => {
    const read = await readBatch(
      folder,
      positions.map((i) => (instances[i] as Instance<unknown>).key),
    ).catch((error: unknown) => {
      throw unreadable(folder, error);
    });
    positions.forEach((i, j) => {
      metas[i] = read[j];
    });
  });
  return metas;
}

/** The error of a run whose store failed to read a task's metadata (a permission, a name too long). */
function unreadable(folder: string, error: unknown): CheckpointError {
  return new CheckpointError(`Task \`${folder}\`: reading its cached results failed: ${describe(error)}`, {
    cause: error,
  });
}
