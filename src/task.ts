import { TaskDefinitionError } from './errors.js';
import { Instance, isInstance, type TaskDefinition } from './instance.js';
import { InstanceTable } from './instance-table.js';
import { canonicalKey, type Json, simpleKey } from './json.js';
import { checkOption, checkOptionNames, isString, shown } from './options.js';
import { type Registration, register } from './registry.js';
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
  compress?: boolean | number | undefined;
  /**
   * How many instances of this task may compute at once in one run.
   * @default Infinity
   */
  maxConcurrency?: number | undefined;
  /**
   * Groups tasks: the cache folder is `<namespace>.<name>`. Letters, digits, `_` and `-`.
   * @default none: the folder is `<name>`
   */
  namespace?: string | undefined;
  /**
   * The version of the task's code. Changing it invalidates every result computed under another
   * version (and so everything downstream of them) on the next run.
   * @default ''
   * @example
   * ```ts
   * task('fit', (data: string) => ..., { version: '2' }) // bump after changing the computation
   * ```
   */
  version?: string | undefined;
}

/** What a factory returns: the computation, either alone or with the instances it requires. */
export type Compute<R> = Computation<R> | (() => R | PromiseLike<R>);

/**
 * A task: call it with arguments to get an instance. Its results live in one cache folder.
 * @typeParam A - the arguments' types
 * @typeParam R - the result's type
 */
export interface Task<A extends readonly unknown[], R> {
  /**
   * The instance for these arguments: equal arguments give the same instance object as long as
   * one exists (the task holds it for a second, then only while something else does).
   */
  (...args: A): Instance<R>;
  /** The task's name as declared. */
  readonly taskName: string;
  /** `namespace.name`, or `name` without a namespace: the task's cache folder. */
  readonly id: string;
  /**
   * Discards every cached result of this task; everything downstream is recomputed on the next
   * run. Clearing a task with nothing cached is not an error.
   */
  clear(options?: { store?: Store | undefined }): Promise<void>;
}

// No dots: the folder `namespace.name` must not be reachable from two different pairs.
const safeName = /^[A-Za-z0-9_][A-Za-z0-9_-]*$/;
/** The longest task id (`namespace.name`): a folder name, well within every filesystem's 255 bytes. */
const MAX_ID = 128;
const OPTIONS: readonly string[] = [
  'compress',
  'maxConcurrency',
  'namespace',
  'version',
] satisfies (keyof TaskOptions)[];

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
  // How every message about this declaration starts.
  const call = `Task \`${name}\``;
  checkOptionNames(call, options, OPTIONS);
  if (options.namespace !== undefined) checkName('namespace', options.namespace, name);
  const id = options.namespace ? `${options.namespace}.${name}` : name;
  if (id.length > MAX_ID) {
    throw new TaskDefinitionError(
      `Task \`${id.slice(0, 40)}...\`: expected the name (with its namespace) to be at most ${MAX_ID} characters, got ${id.length}: it names a folder`,
    );
  }
  checkOption(call, 'version', options.version, 'a string', isString);

  if (typeof factory !== 'function') {
    throw new TaskDefinitionError(`${call}: expected the factory to be a function, got ${typeof factory}`);
  }
  // Read-only `prototype`: a class, not a method named `class` nor an arrow taking `class$`.
  if (
    /^class\b/.test(Function.prototype.toString.call(factory)) &&
    Object.getOwnPropertyDescriptor(factory, 'prototype')?.writable === false
  ) {
    throw new TaskDefinitionError(
      `${call}: expected the factory to be a function, got the class ${factory.name || '(anonymous)'}: a factory is called, not constructed, and returns the function that computes the value, as in \`(x) => () => x * 2\``,
    );
  }
  checkOption(
    call,
    'maxConcurrency',
    options.maxConcurrency,
    'a whole number from 1 and up',
    (value) => typeof value === 'number' && value >= 1 && (Number.isInteger(value) || value === Infinity),
  );
  checkOption(
    call,
    'compress',
    options.compress,
    'a boolean or a level from 0 to 9',
    (value) =>
      typeof value === 'boolean' || (Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 9),
  );
  const maxConcurrency = options.maxConcurrency ?? Number.POSITIVE_INFINITY;
  const level = options.compress === true ? 6 : options.compress === false ? undefined : options.compress;
  const registration = register({
    id,
    // The options as they take effect: the same options written otherwise are the same definition.
    fingerprint: `${factory.toString()}\n${JSON.stringify([options.version ?? '', level, maxConcurrency])}`,
    version: options.version ?? '',
    instance: (key) => definition.byKey(key),
    superseded: () => definition.superseded(),
  });
  const definition = new Definition(
    name,
    id,
    options.version ?? '',
    level,
    maxConcurrency,
    factory as (...args: readonly unknown[]) => unknown,
    registration,
  );
  const instance = (...args: A): Instance<Awaited<R>> => definition.instance(args) as Instance<Awaited<R>>;
  const callable = Object.assign(instance, {
    taskName: name,
    id,
    clear: (clearOptions?: { store?: Store | undefined }) => clearTask(id, clearOptions),
  });
  return callable;
}

/**
 * A task's definition and its instances. One class for every task, rather than closures made per
 * task: the code V8 optimizes for one task's calls then serves every task, and keeps serving
 * after a task is declared again (a notebook cell run twice, a module reloaded) and the old one
 * is collected.
 */
class Definition implements TaskDefinition {
  readonly name: string;
  readonly id: string;
  readonly version: string;
  readonly compressLevel: number | undefined;
  readonly maxConcurrency: number;
  readonly #factory: (...args: readonly unknown[]) => unknown;
  readonly #registration: Registration;
  /** The instances made, by canonical key, while something holds them (see {@link InstanceTable}). */
  readonly #instances = new InstanceTable<Instance<unknown>>();

  constructor(
    name: string,
    id: string,
    version: string,
    compressLevel: number | undefined,
    maxConcurrency: number,
    factory: (...args: readonly unknown[]) => unknown,
    registration: Registration,
  ) {
    this.name = name;
    this.id = id;
    this.version = version;
    this.compressLevel = compressLevel;
    this.maxConcurrency = maxConcurrency;
    this.#factory = factory;
    this.#registration = registration;
  }

  get replaced(): string | undefined {
    return this.#registration.replaced;
  }

  /** The instance for these arguments, made on first use. */
  instance(args: readonly unknown[]): Instance<unknown> {
    const replaced = this.#registration.replaced;
    if (replaced !== undefined) throw new TaskDefinitionError(replaced);
    const key = simpleKey(args);
    // The rest parameter is a fresh array: holding only simple values, it is the canonical copy.
    return key === undefined ? this.byKey(canonicalKey(this.id, args)) : this.byKey(key, args as readonly Json[]);
  }

  /**
   * The instance of a canonical key; `args`, when given, is a private array equal to what the key
   * parses to. Equal arguments give the same instance object as long as one exists.
   */
  byKey(key: string, args?: readonly Json[]): Instance<unknown> {
    return this.#instances.get(key) ?? this.#instances.add(key, new Instance(this, key, args));
  }

  /**
   * A later declaration took this one's place: the instances made in the last second are no longer
   * held for it (a notebook cell run again, a benchmark's new graph each round would otherwise keep
   * the last second's graphs, and every graph of a loop that never lets the event loop turn).
   * Those still held elsewhere stay, but calling this task object again makes new ones.
   */
  superseded(): void {
    this.#instances.dropRecent();
  }

  resolve(instance: Instance<unknown>): Computation<unknown> {
    const made = this.#factory(...instance.args);
    if (made instanceof Computation) return made;
    if (typeof made === 'function') return new Computation(NONE, 'positional', NONE, made as () => unknown);
    throw new TaskDefinitionError(
      `${instance.label}: expected the factory to return a function or requires(...)(fn), got ${
        made === null || typeof made !== 'object' ? String(made) : `an instance of ${made.constructor?.name}`
      }${factoryHint(made)}`,
    );
  }
}

/** The slip most likely behind a factory's wrong result. */
function factoryHint(made: unknown): string {
  if (made instanceof Promise) {
    return ': an async factory? A factory returns its computation at once; make the computation async instead, as in `(url) => async () => ...`';
  }
  if (isInstance(made)) {
    return `: to compute with that instance's value, require it, as in requires(${made.label})((value) => value)`;
  }
  if (typeof made === 'object' && made !== null && made.constructor?.name === 'Computation') {
    return ': requires(...)(fn) of another copy of checkpoint-tool? This process loaded the library twice (see `npm ls checkpoint-tool`): make tasks and requires with one copy';
  }
  return ': a factory returns the function that computes the value, as in `(x) => () => x * 2`';
}

function checkName(what: string, value: unknown, name?: unknown): void {
  if (typeof value !== 'string' || !safeName.test(value)) {
    throw new TaskDefinitionError(
      `Task${name === undefined ? '' : ` \`${name}\``}: expected \`${what}\` to be letters, digits, _ and - (not leading -), got ${typeof value === 'string' ? JSON.stringify(value) : shown(value)}`,
    );
  }
}
