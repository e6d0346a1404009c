import { TaskDefinitionError } from './errors.js';
import { Instance, type TaskDefinition } from './instance.js';
import { canonicalKey, type Json, simpleKey } from './json.js';
import { register } from './registry.js';
import { Computation, NONE } from './requires.js';
import { clearTask } from './run.js';
import type { Store } from './storage/types.js';

/** Options of {@link task}. */
export interface TaskOptions {
  /**
   * Store results compressed with zlib (fflate): `true` for the default level 6, or a level
   * from 0 (fastest) to 9 (smallest). Worth it for large, repetitive outputs.
   * @default false
   */
  compress?: boolean | number;
  /**
   * How many instances of this task may compute at once in one run.
   * @default Infinity
   */
  maxConcurrency?: number;
  /**
   * Groups tasks: the cache folder is `<namespace>.<name>`. Letters, digits, `_` and `-`.
   * @default none: the folder is `<name>`
   */
  namespace?: string;
  /**
   * The version of the task's code. Changing it invalidates every result computed under another
   * version (and so everything downstream of them) on the next run.
   * @default ''
   * @example
   * ```ts
   * task('fit', (data: string) => ..., { version: '2' }) // bump after changing the computation
   * ```
   */
  version?: string;
}

/** What a factory returns: the computation, either alone or with the instances it requires. */
export type Compute<R> = Computation<R> | (() => R | PromiseLike<R>);

/**
 * A task: call it with arguments to get an instance. Its results live in one cache folder.
 * @typeParam A - the arguments' types
 * @typeParam R - the result's type
 */
export interface Task<A extends readonly unknown[], R> {
  /** The instance for these arguments; equal arguments always give the same instance. */
  (...args: A): Instance<R>;
  /** The task's name as declared. */
  readonly taskName: string;
  /** `namespace.name`, or `name` without a namespace: the task's cache folder. */
  readonly id: string;
  /**
   * Discards every cached result of this task; everything downstream is recomputed on the next
   * run. Clearing a task with nothing cached is not an error.
   */
  clear(options?: { store?: Store }): Promise<void>;
}

// No dots: the folder `namespace.name` must not be reachable from two different pairs.
const safeName = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;

/**
 * Declares a task. The factory receives the arguments and returns the function that computes the
 * value, or `requires(...)(fn)` when it needs other instances' values.
 *
 * @param name - a name unique in its namespace: letters, digits, `_` and `-`; explicit
 *   because bundlers and minifiers rename functions.
 * @example
 * ```ts
 * export const choose = task('choose', (n: number, k: number): Compute<number> => {
 *   if (0 < k && k < n) return requires(choose(n - 1, k - 1), choose(n - 1, k))((a, b) => a + b);
 *   if (k === 0 || k === n) return () => 1;
 *   throw new RangeError(`choose(${n}, ${k})`);
 * });
 * ```
 */
export function task<A extends readonly unknown[], R>(
  name: string,
  factory: (...args: A) => Compute<R>,
  options: TaskOptions = {},
): Task<A, Awaited<R>> {
  checkName('name', name);
  if (options.namespace !== undefined) checkName('namespace', options.namespace, name);
  if (typeof factory !== 'function') {
    throw new TaskDefinitionError(`Task \`${name}\`: expected the factory to be a function, got ${typeof factory}`);
  }
  const maxConcurrency = options.maxConcurrency ?? Number.POSITIVE_INFINITY;
  if (!(maxConcurrency >= 1) || (Number.isFinite(maxConcurrency) && !Number.isInteger(maxConcurrency))) {
    throw new TaskDefinitionError(
      `Task \`${name}\`: expected \`maxConcurrency\` to be a whole number from 1 and up, got ${options.maxConcurrency}`,
    );
  }
  const level = options.compress === true ? 6 : options.compress === false ? undefined : options.compress;
  if (level !== undefined && !(Number.isInteger(level) && level >= 0 && level <= 9)) {
    throw new TaskDefinitionError(
      `Task \`${name}\`: expected \`compress\` to be a boolean or a level from 0 to 9, got ${options.compress}`,
    );
  }
  const id = options.namespace ? `${options.namespace}.${name}` : name;
  const definition: TaskDefinition = {
    name,
    id,
    version: options.version ?? '',
    compressLevel: level,
    maxConcurrency,
    resolve(instance) {
      const made: unknown = factory(...(instance.args as unknown as A));
      if (made instanceof Computation) return made;
      if (typeof made === 'function') return new Computation(NONE, 'positional', NONE, made as () => unknown);
      throw new TaskDefinitionError(
        `${instance.label}: expected the factory to return a function or requires(...)(fn), got ${
          made === null || typeof made !== 'object' ? String(made) : `an instance of ${made.constructor?.name}`
        }`,
      );
    },
  };
  const instances = new Map<string, Instance<Awaited<R>>>();
  const byKey = (key: string, args?: readonly Json[]): Instance<Awaited<R>> => {
    let made = instances.get(key);
    if (!made) {
      made = new Instance<Awaited<R>>(definition, key, args);
      instances.set(key, made);
    }
    return made;
  };
  const instance = (...args: A): Instance<Awaited<R>> => {
    const key = simpleKey(args);
    // The rest parameter is a fresh array: holding only simple values, it is the canonical copy.
    return key === undefined ? byKey(canonicalKey(id, args)) : byKey(key, args as readonly unknown[] as Json[]);
  };
  const callable = Object.assign(instance, {
    taskName: name,
    id,
    clear: (clearOptions: { store?: Store } = {}) => clearTask(id, clearOptions.store),
  });
  register({
    id,
    fingerprint: `${factory.toString()}\n${JSON.stringify(options)}`,
    instance: (key) => byKey(key),
  });
  return callable;
}

function checkName(what: string, value: unknown, name?: unknown): void {
  if (typeof value !== 'string' || !safeName.test(value)) {
    throw new TaskDefinitionError(
      `Task${name === undefined ? '' : ` \`${name}\``}: expected \`${what}\` to be letters, digits, _ and - (not leading -), got ${JSON.stringify(value)}`,
    );
  }
}
