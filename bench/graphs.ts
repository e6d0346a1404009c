/**
 * The graphs the benchmarks run, declared through the public API as a user would, and the bare
 * evaluations of the same graphs that serve as baselines.
 * @module
 */
import { type Compute, type Instance, requires, type TaskOptions, task } from 'checkpoint-tool';

/** The two shapes of graph: `choose(n, k)` (a wide, deep lattice) and a fan-in of leaves. */
export type GraphName = 'choose' | 'fan-in';

/** The arguments of `choose(2k, k)` whose graph holds about `size` instances: `(k + 1)² - 1`. */
function chooseArgs(size: number): [number, number] {
  const k = Math.round(Math.sqrt(size)) - 1;
  return [2 * k, k];
}

/** One graph to run: its root instance and how many instances the run computes. */
export interface Graph {
  readonly root: Instance<number>;
  readonly instances: number;
}

/**
 * Declares the tasks afresh and returns the graph's root, so that each run builds its graph from
 * new instances (factories called, keys made) as a first run would. Declaring the same tasks
 * again replaces the old ones, which can then be collected.
 */
export function makeGraph(name: GraphName, size: number, options: TaskOptions = {}): Graph {
  if (name === 'fan-in') {
    const leaf = task('leaf', (i: number) => () => i, options);
    const sum = task(
      'sum',
      (n: number) =>
        requires(Array.from({ length: n }, (_, i) => leaf(i)))((values) => values.reduce((a, b) => a + b, 0)),
      options,
    );
    return { root: sum(size), instances: size + 1 };
  }
  const choose = task(
    'choose',
    (n: number, k: number): Compute<number> => {
      if (0 < k && k < n) return requires(choose(n - 1, k - 1), choose(n - 1, k))((a, b) => a + b);
      return () => 1;
    },
    options,
  );
  const [n, k] = chooseArgs(size);
  // Every (i, j) with j <= k and i - j <= n - k, but (0, 0), which no instance requires.
  return { root: choose(n, k), instances: (k + 1) * (n - k + 1) - 1 };
}

/**
 * The same graph evaluated with nothing but a `Map` of promises: one async step per instance,
 * each shared instance once. The least any promise-based graph evaluator can cost.
 */
export function bareRun(name: GraphName, size: number): Promise<number> {
  if (name === 'fan-in') {
    return Promise.all(Array.from({ length: size }, async (_, i) => i)).then((values) =>
      values.reduce((a, b) => a + b, 0),
    );
  }
  const [n, k] = chooseArgs(size);
  const memo = new Map<string, Promise<number>>();
  const choose = (n: number, k: number): Promise<number> => {
    const key = `${n},${k}`;
    let value = memo.get(key);
    if (!value) {
      value =
        0 < k && k < n
          ? Promise.all([choose(n - 1, k - 1), choose(n - 1, k)]).then(([a, b]) => a + b)
          : (async () => 1)();
      memo.set(key, value);
    }
    return value;
  };
  return choose(n, k);
}
