/**
 * Error classes thrown by checkpoint-tool. Each has an explicit `name` (bundlers rename classes)
 * and keeps the underlying error as `cause`.
 * @module
 */

/** Base class of every error this library throws. */
export class CheckpointError extends Error {
  override name = 'CheckpointError';
}

/** An argument of a task cannot be expressed as JSON; `path` locates it, as in `args[0].p1.x`. */
export class InvalidArgumentError extends CheckpointError {
  override name = 'InvalidArgumentError';
  /** Name of the task that was called. */
  readonly task: string;
  /** Where the offending value is, as in `args[1].points[3]`. */
  readonly path: string;
  constructor(task: string, path: string, problem: string, options?: ErrorOptions) {
    super(`Task \`${task}\`: ${path} ${problem}; task arguments must be JSON values`, options);
    this.task = task;
    this.path = path;
  }
}

/** A task is defined or used wrongly: a duplicate name, a bad factory result, a bad `requires`. */
export class TaskDefinitionError extends CheckpointError {
  override name = 'TaskDefinitionError';
}

/** One instance failed: its computation threw, or its value could not be stored. */
export class TaskFailedError extends CheckpointError {
  override name = 'TaskFailedError';
  /** The failing task's id (`namespace.name`, or its name without a namespace). */
  readonly task: string;
  /** Arguments of the failing instance. */
  readonly args: readonly unknown[];
  constructor(task: string, args: readonly unknown[], label: string, cause: unknown) {
    super(`${label} failed: ${describe(cause)}`, { cause });
    this.task = task;
    this.args = args;
  }
}

/** Several instances failed in one run; `failures` lists each. */
export class RunFailedError extends CheckpointError {
  override name = 'RunFailedError';
  /** Every instance that failed, in the order the failures happened. */
  readonly failures: readonly TaskFailedError[];
  constructor(failures: readonly TaskFailedError[]) {
    super(`${failures.length} instances failed:\n${failures.map((f) => `  - ${f.message}`).join('\n')}`, {
      cause: failures[0],
    });
    this.failures = failures;
  }
}

/** The graph has a cycle; `cycle` names its instances in order, the first repeated at the end. */
export class CycleError extends CheckpointError {
  override name = 'CycleError';
  /** Labels of the instances on the cycle, as in `['a(1)', 'b(1)', 'a(1)']`. */
  readonly cycle: readonly string[];
  constructor(cycle: readonly string[]) {
    super(`The task graph has a cycle: ${cycle.join(' -> ')}`);
    this.cycle = cycle;
  }
}

/** A value cannot be stored faithfully (a function, a symbol, an unregistered class instance...). */
export class SerializationError extends CheckpointError {
  override name = 'SerializationError';
}

/** A run was cancelled through its `signal`. */
export class AbortError extends CheckpointError {
  override name = 'AbortError';
}

/** A short description of anything thrown, for messages. */
export function describe(error: unknown): string {
  if (error instanceof Error) return error.message ? `${error.name}: ${error.message}` : error.name;
  let text: string;
  try {
    text = String(error);
  } catch {
    // An object without a prototype, or whose toString throws.
    text = Object.prototype.toString.call(error);
  }
  if (!text.startsWith('[object ')) return text;
  // A plain object thrown (as some libraries reject with `{ status, ... }`): what it holds says more.
  try {
    const json = shortJson(error);
    if (json !== undefined && json !== '{}') return json;
  } catch {
    // A cycle, a bigint: its kind is all there is to say.
  }
  return text;
}

/**
 * Whether an error is the stack running out: a `RangeError` in V8 and WebKit, an `InternalError`
 * in Firefox, each saying so; not any `RangeError` (a proxy's trap may throw one of its own).
 */
export function isStackOverflow(error: unknown): boolean {
  return /call stack|too much recursion/i.test(String((error as Error | undefined)?.message));
}

/** How many characters of a thrown object's JSON a message shows. */
const SHOWN = 200;
/** Property names whose values a message never shows: messages get logged, and sent on. */
const SECRET = /auth|token|secret|passw|cookie|credential|api[-_]?key|session/i;

/**
 * The JSON of a thrown object, cut after {@link SHOWN} characters: at most that many values are
 * read, and long strings, arrays and objects are cut before they are walked (binary data is only
 * named), so that a large object (a rejected response with its rows) costs what a small one does.
 * Values under names like `authorization`, `token` or `password` are shown as `[hidden]`: a rejected
 * request may carry its credentials.
 */
function shortJson(value: unknown): string | undefined {
  let values = 0;
  let cut = false;
  const json = JSON.stringify(value, (key, item: unknown) => {
    if (key !== '' && SECRET.test(key)) return '[hidden]';
    if (++values > SHOWN) {
      cut = true;
      return undefined;
    }
    if (typeof item === 'string' || Array.isArray(item)) {
      if (item.length <= SHOWN) return item;
      cut = true;
      return item.slice(0, SHOWN);
    }
    if (typeof item !== 'object' || item === null) return item;
    if (ArrayBuffer.isView(item)) return `${item.constructor.name} of ${item.byteLength} bytes`;
    const keys = Object.keys(item);
    if (keys.length <= SHOWN) return item;
    cut = true;
    return Object.fromEntries(keys.slice(0, SHOWN).map((key) => [key, (item as Record<string, unknown>)[key]]));
  });
  if (json === undefined || (!cut && json.length <= SHOWN)) return json;
  return `${json.slice(0, SHOWN)}...`;
}

/** The error classes every JavaScript platform has, by name: stored and sent between threads as such. */
export const platformErrors: Readonly<Record<string, new (message?: string) => Error>> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
};
