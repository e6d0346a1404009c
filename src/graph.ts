import { CheckpointError, CycleError, TaskDefinitionError, TaskFailedError } from './errors.js';
import type { Instance } from './instance.js';
import { replacedCount } from './registry.js';

/**
 * The dependency graph of one run: every instance reachable from the root exactly once (shared
 * instances are not duplicated), numbered so that dependencies come before their dependents.
 */
export interface Graph {
  /** The instances, dependencies first; the root is last. */
  readonly nodes: readonly Instance<unknown>[];
  /**
   * The indices of every node's dependencies, in declaration order, laid end to end: node `i`'s
   * are from `dependencyStart[i]` up to `dependencyStart[i + 1]`. Flat arrays rather than one
   * small array per node: a large graph is then a few objects, not hundreds of thousands.
   */
  readonly dependencies: Int32Array;
  readonly dependencyStart: Int32Array;
  /** The indices of every node's dependents (one per edge), laid out as `dependencies` are. */
  readonly dependents: Int32Array;
  readonly dependentStart: Int32Array;
  /**
   * The nodes whose factory threw, with the error: their dependencies are unknown, so they have
   * none in the graph, and the run fails them without computing them.
   */
  readonly broken: ReadonlyMap<number, TaskFailedError>;
}

/** The number of an instance whose dependencies are still being explored. */
const EXPLORING = -1;

/** Numbers the graph builds, so that an instance tells whether this build has reached it. */
let builds = 0;
/** Whether a graph is being built: a factory is being called by {@link buildGraph}. */
let building = false;

/**
 * Whether a graph is being built. A run that a factory starts then must wait for the build to be
 * over (it is synchronous: the next microtask will do) before building its own, since both would
 * mark the instances they share.
 */
export function isBuildingGraph(): boolean {
  return building;
}

/**
 * Builds the graph from the root by an iterative depth-first search (no recursion depth limit),
 * numbering each instance once all its dependencies are numbered: that numbering is already a
 * dependency order. Each instance reached is marked with the build's number and its own number
 * in this graph, rather than kept in a map from instance to number. An instance whose factory
 * throws is a node without dependencies, listed in `broken`. Throws {@link CycleError} naming the
 * instances of a cycle.
 */
export function buildGraph(root: Instance<unknown>): Graph {
  if (building) throw new CheckpointError('a graph is being built already: wait for isBuildingGraph() to be false');
  building = true;
  try {
    return numbered(root, ++builds);
  } finally {
    building = false;
  }
}

function numbered(root: Instance<unknown>, mark: number): Graph {
  const nodes: Instance<unknown>[] = [];
  const edges: number[] = [];
  const starts: number[] = [];
  // The path being explored, in three stacks rather than an object per step: each instance, its
  // dependencies, and how many of them are done.
  const path: Instance<unknown>[] = [];
  const pathDependencies: (readonly Instance<unknown>[])[] = [];
  const pathNext: number[] = [];
  // Rare: by instance while the numbers are not known yet.
  let failures: Map<Instance<unknown>, TaskFailedError> | undefined;
  const enter = (instance: Instance<unknown>) => {
    instance.setNumber(mark, EXPLORING);
    path.push(instance);
    let dependencies: readonly Instance<unknown>[];
    try {
      // An instance made before its task was declared again runs neither its old code nor the new.
      const replaced = instance.task.replaced;
      if (replaced !== undefined) throw new TaskDefinitionError(replaced);
      dependencies = instance.computation().dependencies;
      // A dependency made from a declaration replaced since: its dependent's factory, called
      // again, may make it from the new declaration (the same object then serves every graph).
      if (replacedCount() !== 0 && dependencies.some((dependency) => dependency.task.replaced !== undefined)) {
        dependencies = instance.resolveAgain().dependencies;
      }
    } catch (error) {
      failures ??= new Map();
      failures.set(instance, new TaskFailedError(instance.task.id, instance.args, instance.label, error));
      dependencies = [];
    }
    pathDependencies.push(dependencies);
    pathNext.push(0);
  };
  enter(root);
  while (path.length > 0) {
    const top = path.length - 1;
    const dependencies = pathDependencies[top] as readonly Instance<unknown>[];
    const next = pathNext[top] as number;
    if (next < dependencies.length) {
      pathNext[top] = next + 1;
      const dependency = dependencies[next] as Instance<unknown>;
      const number = dependency.numberIn(mark);
      if (number === undefined) enter(dependency);
      else if (number === EXPLORING) throw new CycleError(cycle(path, dependency));
      continue;
    }
    const instance = path.pop() as Instance<unknown>;
    pathDependencies.pop();
    pathNext.pop();
    instance.setNumber(mark, nodes.length);
    nodes.push(instance);
    starts.push(edges.length);
    for (let d = 0; d < dependencies.length; d++)
      edges.push((dependencies[d] as Instance<unknown>).numberIn(mark) as number);
  }
  starts.push(edges.length);
  const dependencies = Int32Array.from(edges);
  const dependencyStart = Int32Array.from(starts);
  // Dependents by counting: how many per node, where each node's run starts, then fill.
  const n = nodes.length;
  const dependentStart = new Int32Array(n + 1);
  for (let p = 0; p < dependencies.length; p++) dependentStart[dependencies[p]! + 1]!++;
  for (let i = 0; i < n; i++) dependentStart[i + 1]! += dependentStart[i]!;
  const dependents = new Int32Array(dependencies.length);
  const filled = dependentStart.slice(0, n);
  for (let i = 0; i < n; i++) {
    for (let p = dependencyStart[i]!; p < dependencyStart[i + 1]!; p++) dependents[filled[dependencies[p]!]!++] = i;
  }
  const broken = new Map<number, TaskFailedError>();
  if (failures) for (const [instance, error] of failures) broken.set(instance.numberIn(mark) as number, error);
  return { nodes, dependencies, dependencyStart, dependents, dependentStart, broken };
}

/**
 * The labels of the cycle closed by requiring `back` from the end of the path, in dependency
 * order: each instance requires the next, and the last is the first again.
 */
function cycle(path: readonly Instance<unknown>[], back: Instance<unknown>): string[] {
  return [...path.slice(path.indexOf(back)).map((instance) => instance.label), back.label];
}
