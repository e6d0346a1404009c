/**
 * What the child processes of the filesystem benchmark run: one run of a graph with the
 * filesystem store, counting the values it reads (and so deserializes) from the store.
 * @module
 */
import { fsStore, type Instance, requires, type Store, task } from 'checkpoint-tool';
import { type GraphName, makeGraph } from './graphs.js';

/** The graphs a child can run; the upstream ones are fan-ins of 100 typed arrays. */
export type WarmGraph = GraphName | 'big-upstream' | 'small-upstream';

/** What one run in a child process saw. */
export interface RunResult {
  /** From calling `run()` to its value. */
  runMs: number;
  /** From the child process's start to the value: startup and module loading included. */
  sinceStartMs: number;
  /** Instances computed (not reused). */
  computed: number;
  /** Values read from the store, each then deserialized. */
  deserialized: number;
  value: number;
}

/** Runs a graph with the filesystem store in `dir` and reports what it saw. */
export async function runGraph({
  graph,
  size,
  dir,
}: {
  graph: WarmGraph;
  size?: number;
  dir: string;
}): Promise<RunResult> {
  // Every value a run deserializes is one it reads from the store first.
  let deserialized = 0;
  const inner = fsStore({ dir });
  const store: Store = {
    ...inner,
    readValue: (folder, key) => {
      deserialized++;
      return inner.readValue(folder, key);
    },
  };
  const root = graph === 'choose' || graph === 'fan-in' ? makeGraph(graph, size ?? 10_000).root : upstream(graph);
  let computed = 0;
  const start = performance.now();
  const value = await root.run({
    store,
    onEvent: (event) => {
      if (event.type === 'finished') computed++;
    },
  });
  const end = performance.now();
  return { runMs: end - start, sinceStartMs: end, computed, deserialized, value };
}

/** A fan-in of 100 leaves, each a typed array of 1 MB, or of 8 bytes, with a small root. */
function upstream(graph: 'big-upstream' | 'small-upstream'): Instance<number> {
  const length = graph === 'big-upstream' ? 2 ** 17 : 1;
  const leaf = task('leaf', (i: number, n: number) => () => ({ i, values: new Float64Array(n).fill(i) }));
  const total = task('total', (leaves: number, n: number) =>
    requires(Array.from({ length: leaves }, (_, i) => leaf(i, n)))((values) =>
      values.reduce((sum, { values }) => sum + (values[0] as number), 0),
    ),
  );
  return total(100, length);
}
