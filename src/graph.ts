import { CycleError, TaskFailedError } from './errors.js';
import type { Instance } from './instance.js';

/**
 * The dependency graph of one run: every instance reachable from the root exactly once (shared
 * instances are not duplicated), numbered so that dependencies come before their dependents.
 */
export interface Graph {
  /** The instances, dependencies first; the root is last. */
  readonly nodes: readonly Instance<unknown>[];
  /** For each node, the indices of its dependencies, in declaration order. */
  readonly dependencies: readonly (readonly number[])[];
  /** For each node, the indices of its dependents (one per edge). */
  readonly dependents: readonly (readonly number[])[];
}

/**
 * Builds the graph from the root, iteratively (no recursion depth limit), and orders it by Kahn's
 * algorithm. Throws {@link TaskFailedError} when a factory throws, and {@link CycleError} naming
 * the instances of a cycle.
 */
export function buildGraph(root: Instance<unknown>): Graph {
  const index = new Map<Instance<unknown>, number>([[root, 0]]);
  const found: Instance<unknown>[] = [root];
  const edges: number[][] = [];
  for (let i = 0; i < found.length; i++) {
    const instance = found[i] as Instance<unknown>;
    let dependencies: readonly Instance<unknown>[];
    try {
      dependencies = instance.computation().dependencies;
    } catch (error) {
      throw new TaskFailedError(instance.task.id, instance.args, instance.label, error);
    }
    edges.push(
      dependencies.map((dependency) => {
        let j = index.get(dependency);
        if (j === undefined) {
          j = found.length;
          index.set(dependency, j);
          found.push(dependency);
        }
        return j;
      }),
    );
  }
  return order(found, edges);
}

function order(found: readonly Instance<unknown>[], edges: readonly number[][]): Graph {
  const n = found.length;
  const waiting = edges.map((list) => list.length);
  const dependentsOf: number[][] = found.map(() => []);
  edges.forEach((list, i) => {
    for (const j of list) dependentsOf[j]?.push(i);
  });
  const sorted: number[] = [];
  for (let i = 0; i < n; i++) if (waiting[i] === 0) sorted.push(i);
  for (let head = 0; head < sorted.length; head++) {
    for (const dependent of dependentsOf[sorted[head] as number] as number[]) {
      if (--(waiting[dependent] as number) === 0) sorted.push(dependent);
    }
  }
  if (sorted.length < n) throw new CycleError(findCycle(found, edges, waiting));
  const position = new Array<number>(n);
  sorted.forEach((node, p) => {
    position[node] = p;
  });
  const remap = (list: readonly number[]) => list.map((j) => position[j] as number);
  return {
    nodes: sorted.map((i) => found[i] as Instance<unknown>),
    dependencies: sorted.map((i) => remap(edges[i] as number[])),
    dependents: sorted.map((i) => remap(dependentsOf[i] as number[])),
  };
}

// Every node Kahn could not order waits on another such node, so following those edges from any
// of them must come back to a node already seen: that loop is a cycle.
function findCycle(found: readonly Instance<unknown>[], edges: readonly number[][], waiting: number[]): string[] {
  const onPath = new Map<number, number>();
  const path: number[] = [];
  let node = waiting.findIndex((count) => count > 0);
  while (!onPath.has(node)) {
    onPath.set(node, path.length);
    path.push(node);
    node = (edges[node] as number[]).find((j) => (waiting[j] as number) > 0) as number;
  }
  const cycle = path.slice(onPath.get(node));
  // Present it in dependency order: each instance requires the next.
  return [...cycle, node].map((i) => (found[i] as Instance<unknown>).label);
}
