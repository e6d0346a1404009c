import { TaskDefinitionError } from './errors.js';
import type { RunEvent } from './events.js';
import { inProcess } from './executors/in-process.js';
import type { Executor } from './executors/types.js';
import { buildGraph, isBuildingGraph } from './graph.js';
import { Instance, type TaskDefinition } from './instance.js';
import { checkOption, checkOptionNames, isBoolean, isFunction } from './options.js';
import { planUnlessCancelled } from './plan.js';
import { getDefaultStore } from './platform.js';
import { Computation, NONE } from './requires.js';
import { execute } from './schedule/execute.js';
import { memoryStore } from './storage/memory.js';
import type { Store } from './storage/types.js';

/**
 * Options of `instance.run()`. An options object holding anything else (a misspelt option, or
 * properties spread in from another object) is refused with a `TaskDefinitionError`.
 */
export interface RunOptions {
  /**
   * What runs the computations. The run never closes it, so one executor serves many runs.
   * @default inProcess()
   */
  executor?: Executor | undefined;
  /**
   * Where results are cached.
   * @default the platform's store: `fsStore()` on Node.js, `idbStore()` in browsers
   */
  store?: Store | undefined;
  /**
   * Called with each {@link RunEvent}, in order, for progress bars, logs and live graphs. An async
   * listener is not awaited between events, but the run settles only once the promises it returned
   * have; one that rejects fails the run as a listener that throws does.
   * @example
   * ```ts
   * await total(2024).run({ onEvent: (e) => e.type === 'finished' && console.log(`${e.instance} in ${e.duration} ms`) });
   * ```
   */
  onEvent?: ((event: RunEvent) => void) | undefined;
  /**
   * After a failure, keep computing everything that is not downstream of it, instead of starting
   * no new work. The run still rejects at the end.
   * @default false
   */
  keepGoing?: boolean | undefined;
  /**
   * Cancels the run: no new computation starts, and those running see it through their
   * `currentSignal()`; those that stop with its reason are skipped, the others finish and are stored.
   */
  signal?: AbortSignal | undefined;
}

let sharedInProcess: Executor | undefined;

const RUN_OPTIONS: readonly string[] = [
  'executor',
  'store',
  'onEvent',
  'keepGoing',
  'signal',
] satisfies (keyof RunOptions)[];
const STORE_METHODS = ['readMeta', 'readValue', 'write', 'delete', 'clear', 'keys'] as const;
const OPTIONAL_STORE_METHODS = ['lock', 'readMetas'] as const;

/**
 * Checks options as they come at run time (from JavaScript, or misspelt past a cast): an unknown
 * option or one of the wrong kind is a {@link TaskDefinitionError} naming the call, before
 * anything is read or computed. A misspelt `store` would otherwise cache in the default store.
 */
function checkOptions(call: string, options: unknown, known: readonly string[]): Record<string, unknown> {
  if (hasMethods(options, STORE_METHODS)) {
    throw new TaskDefinitionError(`${call}: expected the options, got a store: pass it as { store }`);
  }
  const given = checkOptionNames(call, options, known);
  const expect = (name: string, ok: (value: unknown) => boolean, what: string) =>
    checkOption(call, name, given[name], what, ok);

  expect('store', (value) => hasMethods(value, STORE_METHODS), `a Store (with ${STORE_METHODS.join(', ')})`);
  const store = given.store as Record<string, unknown> | undefined;
  for (const name of OPTIONAL_STORE_METHODS) {
    // Absent is falsy, as the run tells (`lock: useLock && lock` is a store without one).
    const method = store?.[name] || undefined;
    checkOption(call, `store.${name}`, method, 'a function (or absent)', isFunction);
  }

  expect(
    'executor',
    (value) => {
      if (!hasMethods(value, ['execute'])) return false;
      const concurrency = (value as Executor).concurrency;
      return (Number.isInteger(concurrency) || concurrency === Infinity) && concurrency >= 1;
    },
    'an Executor (with execute, and a concurrency that is a whole number from 1 up, or Infinity)',
  );
  expect('onEvent', isFunction, 'a function');
  expect('keepGoing', isBoolean, 'a boolean');
  expect(
    'signal',
    (value) =>
      hasMethods(value, ['addEventListener', 'removeEventListener']) &&
      typeof (value as AbortSignal).aborted === 'boolean',
    'an AbortSignal',
  );
  return given;
}

function hasMethods(value: unknown, names: readonly string[]): boolean {
  return (
    typeof value === 'object' &&
    value !== null &&
    names.every((name) => typeof (value as Record<string, unknown>)[name] === 'function')
  );
}

/** What a run of one instance leaves alive, kept by {@link keepShapes}. */
let kept: object[] | undefined;

/**
 * Runs a graph of one instance, once per process, and keeps every object of that run for good.
 *
 * V8 keeps the hidden classes that objects acquire property by property only while some object
 * has them. Once all the objects of a run have been collected, so have their classes, and the
 * code V8 optimized for them is thrown away: every run after a full garbage collection then began
 * in unoptimized code, which made repeated runs of 10,000 instances about 1.5x slower. The kept
 * run holds one object of each class a run makes, and with them the optimized code.
 */
function keepShapes(): void {
  if (kept) return;
  kept = [];
  const definition: TaskDefinition = {
    name: 'kept',
    id: 'kept',
    version: '',
    compressLevel: undefined,
    maxConcurrency: Number.POSITIVE_INFINITY,
    replaced: undefined,
    resolve: () => new Computation(NONE, 'positional', NONE, () => 0),
  };
  const executor: Executor = {
    concurrency: Number.POSITIVE_INFINITY,
    execute: (_job, context) => {
      kept?.push(context);
      return 0;
    },
  };
  // It cannot fail; were it to, that would not concern the run that started it.
  kept.push(run(new Instance(definition, '[]', []), { store: memoryStore(), executor }).catch(() => undefined));
}

/** Builds the graph of `root`, decides what is fresh, computes the rest and returns the value. */
export async function run(root: Instance<unknown>, given?: RunOptions): Promise<unknown> {
  if (!(root instanceof Instance)) throw detached('run');
  const options = checkOptions(`${root.label}.run()`, given, RUN_OPTIONS) as RunOptions;
  keepShapes();
  // Started by a factory while a graph is being built: build this one once that build is over.
  if (isBuildingGraph()) await undefined;
  const start = performance.now();
  const now = () => performance.now() - start;
  const graph = buildGraph(root);
  const store = options.store ?? getDefaultStore();
  sharedInProcess ??= inProcess();
  return execute({
    graph,
    plan: await planUnlessCancelled(graph, store, options.signal),
    store,
    executor: options.executor ?? sharedInProcess,
    keepGoing: options.keepGoing ?? false,
    signal: options.signal,
    emit: options.onEvent,
    now,
  });
}

/** Discards one instance's cached result. */
export async function clearInstance(instance: Instance<unknown>, given: unknown): Promise<void> {
  if (!(instance instanceof Instance)) throw detached('clear');
  const { store } = checkOptions(`${instance.label}.clear()`, given, ['store']) as { store?: Store };
  return (store ?? getDefaultStore()).delete(instance.task.id, instance.key);
}

/** Discards every cached result of a task. */
export async function clearTask(id: string, given: unknown): Promise<void> {
  const { store } = checkOptions(`${id}.clear()`, given, ['store']) as { store?: Store };
  return (store ?? getDefaultStore()).clear(id);
}

/** A method of an instance called without it (`const { run } = x`, `.then(x.run)`): `this` is lost. */
function detached(method: string): TaskDefinitionError {
  return new TaskDefinitionError(
    `${method}() was called without its instance (taken off it, as in \`.then(x.${method})\`): call it on the instance, as in \`x.${method}()\``,
  );
}
