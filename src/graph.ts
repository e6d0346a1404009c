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

/** A node being explored: its instance, its dependencies, and how many of them are done. */
interface Frame {
  readonly instance: Instance<unknown>;
  readonly dependencies: readonly Instance<unknown>[];
  next: number;
}

/** Marks an instance whose dependencies are still being explored, in the numbering map. */
const EXPLORING = -1;

/**
 * Builds the graph from the root by an iterative depth-first search (no recursion depth limit),
 * numbering each instance once all its dependencies are numbered: that numbering is already a
 * dependency order. Throws {@link TaskFailedError} when a factory throws, and {@link CycleError}
 * naming the instances of a cycle.
 */
export function buildGraph(root: Instance<unknown>): Graph {
  const index = new Map<Instance<unknown>, number>();
  const nodes: Instance<unknown>[] = [];
  const dependencies: number[][] = [];
  const stack: Frame[] = [];
  const enter = (instance: Instance<unknown>) => {
    index.set(instance, EXPLORING);
    stack.push({ instance, dependencies: dependenciesOf(instance), next: 0 });
  };
  enter(root);
  while (stack.length > 0) {
    const frame = stack[stack.length - 1] as Frame;
    if (frame.next < frame.dependencies.length) {
      const dependency = frame.dependencies[frame.next++] as Instance<unknown>;
      const state = index.get(dependency);
      if (state === undefined) enter(dependency);
      else if (state === EXPLORING) throw new CycleError(cycle(stack, dependency));
      continue;
    }
    stack.pop();
    index.set(frame.instance, nodes.length);
    nodes.push(frame.instance);
    dependencies.push(frame.dependencies.map((dependency) => index.get(dependency) as number));
  }
  const dependents: number[][] = nodes.map(() => []);
  dependencies.forEach((list, i) => {
    for (const j of list) (dependents[j] as number[]).push(i);
  });
  return { nodes, dependencies, dependents };
}

function dependenciesOf(instance: Instance<unknown>): readonly Instance<unknown>[] {
  try {
    return instance.computation().dependencies;
  } catch (error) {
    throw new TaskFailedError(instance.task.id, instance.args, instance.label, error);
  }
}

/**
 * The labels of the cycle closed by requiring `back` from the top of the stack, in dependency
 * order: each instance requires the next, and the last is the first again.
 */
function cycle(stack: readonly Frame[], back: Instance<unknown>): string[] {
  const start = stack.findIndex((frame) => frame.instance === back);
  return [...stack.slice(start).map((frame) => frame.instance.label), back.label];
}
