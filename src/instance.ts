import type { Json } from './json.js';
import type { Computation } from './requires.js';
import { clearInstance, type RunOptions, run } from './run.js';
import type { Store } from './storage/types.js';

declare const resultType: unique symbol;

/** How many characters of its arguments an instance's label shows. */
const LABEL_ARGS = 200;

/** What a task instance needs from its task; the task module implements it. */
export interface TaskDefinition {
  /** The task's name as declared. */
  readonly name: string;
  /** `namespace.name`, or `name` without a namespace: the task's folder and its unique id. */
  readonly id: string;
  /** The task's `version` option, `''` when not set. */
  readonly version: string;
  /** The compression level of stored values, or `undefined` for none. */
  readonly compressLevel: number | undefined;
  /** The task's `maxConcurrency` option. */
  readonly maxConcurrency: number;
  /**
   * Why this declaration no longer runs, once the task has been declared again differently (see
   * `register`); `undefined` while it is the task's current declaration.
   */
  readonly replaced: string | undefined;
  /** Calls the factory for the given arguments and checks what it returned. */
  resolve(instance: Instance<unknown>): Computation<unknown>;
}

/**
 * One call of a task with its arguments: the unit that is computed, cached and cleared. The same
 * task and equal arguments give the same instance object as long as one exists.
 */
export class Instance<T> {
  /** The task this is an instance of. */
  readonly task: TaskDefinition;
  /** The arguments, as canonical JSON values (a deep copy of what was passed). */
  readonly args: readonly Json[];
  /** The canonical JSON of the arguments, keys sorted: the instance's identity within its task. */
  readonly key: string;
  declare readonly [resultType]: T;
  #computation: Computation<unknown> | undefined;
  /** Which graph build last numbered this instance (see {@link numberIn}), and its number there. */
  #build = 0;
  #number = 0;

  /**
   * Instances are made by calling a task, never directly. `args`, when given, is a
   * private array equal to what `key` parses to, spared the parse.
   */
  constructor(task: TaskDefinition, key: string, args?: readonly Json[]) {
    this.task = task;
    this.key = key;
    this.args = args ?? (JSON.parse(key) as Json[]);
  }

  /**
   * @internal The number graph build `build` gave this instance, or `undefined` when that build
   * has not reached it: marks kept on the instance, in private fields (invisible, and writable
   * even when the instance is frozen), rather than in a map from instance to number.
   */
  numberIn(build: number): number | undefined {
    return this.#build === build ? this.#number : undefined;
  }

  /** @internal Records the number graph build `build` gives this instance. */
  setNumber(build: number, number: number): void {
    this.#build = build;
    this.#number = number;
  }

  /**
   * A readable name, as in `choose(6,3)`, for messages and events: arguments longer than
   * {@link LABEL_ARGS} characters are cut short with `...`. Not an identity: `task.id` and `key` are.
   */
  get label(): string {
    let args = this.key.slice(1, -1);
    if (args.length > LABEL_ARGS) {
      // Never half a surrogate pair (an emoji cut in two).
      const end = /[\uD800-\uDBFF]/.test(args.charAt(LABEL_ARGS - 1)) ? LABEL_ARGS - 1 : LABEL_ARGS;
      args = `${args.slice(0, end)}...`;
    }
    return `${this.task.id}(${args})`;
  }

  /**
   * @internal The factory's result for these arguments, computed once. Throws what the factory
   * throws.
   */
  computation(): Computation<unknown> {
    this.#computation ??= this.task.resolve(this);
    return this.#computation;
  }

  /**
   * @internal Calls the factory again, for a computation that required an instance of a replaced
   * declaration: the factory may now make it from the new declaration (a REPL's `fit` assigned
   * again). Keeps the earlier computation when the factory throws, so the run fails at the
   * replaced instance, with the reason.
   */
  resolveAgain(): Computation<unknown> {
    try {
      this.#computation = this.task.resolve(this);
    } catch {
      // The earlier computation stands.
    }
    return this.computation();
  }

  /**
   * Computes this instance's value: builds its graph, reuses what is cached and fresh, computes
   * the rest as parallel as allowed and stores every result.
   */
  run(options?: RunOptions): Promise<T> {
    return run(this, options) as Promise<T>;
  }

  /**
   * Discards this instance's cached result, so that it and everything downstream of it are
   * recomputed on the next run. Clearing what is not cached is not an error.
   */
  clear(options?: { store?: Store | undefined }): Promise<void> {
    return clearInstance(this, options);
  }

  /** The label, as in `choose(6,3)`. */
  toString(): string {
    return this.label;
  }
}

/** The result type of an instance. */
export type ResultOf<I> = I extends Instance<infer T> ? T : never;

/** Whether a value is a task instance. */
export function isInstance(value: unknown): value is Instance<unknown> {
  return value instanceof Instance;
}

/**
 * How to name an instance made by another copy of this library loaded in the same process (two
 * installed copies), which {@link isInstance} does not recognize; `undefined` for anything else.
 */
export function foreignInstance(value: object): string | undefined {
  if (value instanceof Instance || value.constructor?.name !== 'Instance') return undefined;
  // All of an instance's shape, not only its name: a class of the user's may be named so too.
  const { label, key, task, run } = value as { label?: unknown; key?: unknown; task?: unknown; run?: unknown };
  if (typeof label !== 'string' || typeof key !== 'string' || typeof run !== 'function') return undefined;
  if (typeof (task as { id?: unknown } | undefined)?.id !== 'string') return undefined;
  return `the task instance ${label} of another copy of checkpoint-tool: this process loaded the library twice (see \`npm ls checkpoint-tool\`), and one copy cannot run the tasks of the other`;
}
