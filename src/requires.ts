import { TaskDefinitionError } from './errors.js';
import { foreignInstance, type Instance, isInstance, type ResultOf } from './instance.js';
import { enterComputation, leaveComputation } from './signal.js';

/** No names, or no dependencies: one shared empty list rather than a new one per instance. */
export const NONE: readonly never[] = Object.freeze([]);

/** How the required instances were given to `requires`, and so how their values are passed. */
export type Shape = 'positional' | 'array' | 'object';

/**
 * What a task's factory returns when the task needs other instances: built by
 * `requires(...)(fn)`. The values of `dependencies` are passed to `fn` in the declared shape.
 */
export class Computation<R> {
  /** The required instances, in declaration order (object form: in the order of `names`). */
  readonly dependencies: readonly Instance<unknown>[];
  /** How the values are handed to `fn`. */
  readonly shape: Shape;
  /** Object form only: the property name of each dependency. */
  readonly names: readonly string[];
  readonly #fn: (...values: never[]) => R | PromiseLike<R>;

  constructor(
    dependencies: readonly Instance<unknown>[],
    shape: Shape,
    names: readonly string[],
    fn: (...values: never[]) => R | PromiseLike<R>,
  ) {
    this.dependencies = dependencies;
    this.shape = shape;
    this.names = names;
    this.#fn = fn;
  }

  /**
   * Calls the function with the dependencies' values, given in declaration order.
   * @param signal - its run's cancelling: the signal `currentSignal()` gives the function fires with it
   */
  compute(values: readonly unknown[], signal?: AbortSignal): R | PromiseLike<R> {
    const outer = enterComputation(signal);
    let result: R | PromiseLike<R> | undefined;
    try {
      result = this.#call(values);
      return result;
    } finally {
      leaveComputation(outer, result);
    }
  }

  #call(values: readonly unknown[]): R | PromiseLike<R> {
    const fn = this.#fn as (...values: unknown[]) => R | PromiseLike<R>;
    if (this.shape === 'positional') return fn(...values);
    if (this.shape === 'array') return fn(values);
    const named: Record<string, unknown> = {};
    // Defined, not assigned: a key named `__proto__` is a property like any other.
    this.names.forEach((name, i) => {
      Object.defineProperty(named, name, { value: values[i], enumerable: true, writable: true, configurable: true });
    });
    return fn(named);
  }
}

type Values<D> = { -readonly [K in keyof D]: ResultOf<D[K]> };

/** The function `requires(...)` returns: give it the computation that uses the values. */
export type Requirement<Args extends readonly unknown[]> = <R>(
  fn: (...values: Args) => R | PromiseLike<R>,
) => Computation<Awaited<R>>;

/**
 * Declares the instances a computation needs. Their results are computed (or read from the
 * cache) first and passed to the function, typed from the required tasks.
 *
 * @example Positional
 * ```ts
 * requires(choose(n - 1, k - 1), choose(n - 1, k))((a, b) => a + b)
 * ```
 * @example One array
 * ```ts
 * requires([choose(n - 1, k - 1), choose(n - 1, k)])(([a, b]) => a + b)
 * ```
 * @example One object
 * ```ts
 * requires({ left: choose(n - 1, k - 1), right: choose(n - 1, k) })(({ left, right }) => left + right)
 * ```
 */
export function requires<const D extends readonly Instance<unknown>[]>(dependencies: D): Requirement<[Values<D>]>;
export function requires<const D extends Readonly<Record<string, Instance<unknown>>>>(
  dependencies: D,
): Requirement<[Values<D>]>;
export function requires<const D extends readonly Instance<unknown>[]>(...dependencies: D): Requirement<Values<D>>;
export function requires(...given: unknown[]): Requirement<never> {
  let dependencies: unknown[];
  let shape: Shape = 'positional';
  let names: readonly string[] = NONE;
  const first = given[0];
  if (given.length === 1 && Array.isArray(first)) {
    shape = 'array';
    dependencies = first;
  } else if (given.length === 1 && isPlainObject(first)) {
    shape = 'object';
    // Enumerable ones only, as `Object.keys` takes: a hidden one is a mark, not a value to pass.
    const symbol = Object.getOwnPropertySymbols(first).find((key) =>
      Object.prototype.propertyIsEnumerable.call(first, key),
    );
    if (symbol !== undefined) {
      throw new TaskDefinitionError(
        `requires(...)[${String(symbol)}]: expected a string key, got a symbol: the object form passes string keys only`,
      );
    }
    names = Object.keys(first);
    dependencies = names.map((name) => (first as Record<string, unknown>)[name]);
  } else {
    dependencies = given;
  }
  for (let i = 0; i < dependencies.length; i++) {
    const dependency = dependencies[i];
    if (!isInstance(dependency)) {
      const where = shape === 'object' ? `.${names[i]}` : `[${i}]`;
      throw new TaskDefinitionError(
        `requires(...)${where}: expected a task instance, such as \`myTask(1, 2)\`, got ${describeGiven(dependency)}`,
      );
    }
  }
  const checked = dependencies as Instance<unknown>[];
  return <R>(fn: (...values: never) => R | PromiseLike<R>) => {
    if (typeof fn !== 'function') {
      throw new TaskDefinitionError(`requires(...)(fn): expected a function, got ${describeGiven(fn)}`);
    }
    return new Computation<Awaited<R>>(checked, shape, names, fn as (...values: never[]) => Awaited<R>);
  };
}

/**
 * Whether a value is a plain object (made by `{...}` or `Object.create(null)`): the object form.
 * Anything else given alone (a promise, a `Map`) is checked as an instance, and so named.
 */
function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describeGiven(value: unknown): string {
  if (typeof value === 'function') return `a function (did you pass the task instead of calling it?)`;
  if (value === null || typeof value !== 'object') return String(value);
  const foreign = foreignInstance(value);
  if (foreign) return foreign;
  if (Array.isArray(value)) {
    return 'an array: requires takes instances, or one array or one object of them, not arrays of arrays';
  }
  const iterator = typeof (value as Iterator<unknown>).next === 'function' && Symbol.iterator in value;
  const given = iterator ? 'an iterator' : `an instance of ${(value as object).constructor?.name || 'Object'}`;
  if (value instanceof Promise) return `${given} (pass the instance itself, not what its run() returns)`;
  // A Map's items are entries: its values would be meant, and those are better named by the object form.
  if (Symbol.iterator in value && !(value instanceof Map)) {
    return `${given}: spread it into an array, as in requires([...instances])`;
  }
  return given;
}
