import { describe, InvalidArgumentError, isStackOverflow } from './errors.js';
import { foreignInstance, isInstance } from './instance.js';

/** A value JSON can express. Task arguments are of this type. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/**
 * The canonical JSON text of task arguments: object keys sorted, no spaces. Equal JSON values give
 * equal keys whatever their key order. As `JSON.stringify` does, an object property whose value is
 * `undefined` is left out, and so are trailing `undefined` arguments (an optional parameter not
 * given): `f(1, undefined)` is `f(1)`, `f({ a: 1, b: undefined })` is `f({ a: 1 })`. Throws
 * {@link InvalidArgumentError} naming the path of a value JSON cannot express, `undefined` in an
 * array or before another argument included. {@link simpleKey} gives the same text, faster, for
 * the arguments it takes: tasks try it first.
 */
export function canonicalKey(task: string, args: readonly unknown[]): string {
  let given = args.length;
  while (given > 0 && args[given - 1] === undefined) given--;
  try {
    return canonical(task, given === args.length ? args : args.slice(0, given), 'args', new Set());
  } catch (error) {
    if (error instanceof InvalidArgumentError) throw error;
    if (isStackOverflow(error)) throw new InvalidArgumentError(task, 'args', 'is nested too deeply');
    // A proxy's trap (its keys, its prototype) threw: where is not known.
    throw unreadable(task, 'args', error);
  }
}

/**
 * The canonical key of arguments that are all strings, finite numbers other than -0, booleans or
 * null, else `undefined`. JSON gives such values back unchanged, so an array of them is its own
 * canonical copy, and its JSON text its canonical key. That text is written here, item by item:
 * faster than `JSON.stringify` of the array, and a number's text is its `JSON.stringify` text.
 */
export function simpleKey(args: readonly unknown[]): string | undefined {
  let text = '[';
  for (let i = 0; i < args.length; i++) {
    const value = args[i];
    if (i > 0) text += ',';
    if (typeof value === 'number') {
      if (!Number.isFinite(value) || Object.is(value, -0)) return undefined;
      text += value;
    } else if (typeof value === 'string') text += JSON.stringify(value);
    else if (value === true) text += 'true';
    else if (value === false) text += 'false';
    else if (value === null) text += 'null';
    else return undefined;
  }
  return `${text}]`;
}

function canonical(task: string, value: unknown, path: string, ancestors: Set<object>): string {
  switch (typeof value) {
    case 'string':
      return JSON.stringify(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'number':
      if (!Number.isFinite(value)) throw new InvalidArgumentError(task, path, `is ${value}`);
      return JSON.stringify(value);
    case 'object':
      break;
    case 'undefined':
      throw new InvalidArgumentError(
        task,
        path,
        'is undefined (left out only as an object property or a trailing argument: pass null)',
      );
    default:
      throw new InvalidArgumentError(task, path, `is ${describeType(value)}`);
  }
  if (value === null) return 'null';
  if (ancestors.has(value)) throw new InvalidArgumentError(task, path, 'is a cycle back to an enclosing value');
  ancestors.add(value);
  let text: string;
  if (Array.isArray(value)) {
    const parts: string[] = [];
    for (let i = 0; i < value.length; i++) {
      if (!(i in value)) throw new InvalidArgumentError(task, `${path}[${i}]`, 'is a hole in a sparse array');
      parts.push(canonical(task, value[i], `${path}[${i}]`, ancestors));
    }
    text = `[${parts.join(',')}]`;
  } else {
    const proto = Object.getPrototypeOf(value);
    // A plain object of another realm (made in a vm context, as some notebooks run their cells)
    // has that realm's Object.prototype, whose own prototype is null.
    if (proto !== Object.prototype && proto !== null && Object.getPrototypeOf(proto) !== null) {
      const problem = isInstance(value) ? instanceGiven(value.label) : foreignGiven(value);
      throw new InvalidArgumentError(task, path, problem);
    }
    const parts: string[] = [];
    for (const name of Object.keys(value).sort()) {
      const itemPath = `${path}${/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `[${JSON.stringify(name)}]`}`;
      let item: unknown;
      try {
        item = (value as Record<string, unknown>)[name];
      } catch (error) {
        throw unreadable(task, itemPath, error);
      }
      if (item === undefined) continue; // left out, as JSON.stringify does
      parts.push(`${JSON.stringify(name)}:${canonical(task, item, itemPath, ancestors)}`);
    }
    if (Object.getOwnPropertySymbols(value).length > 0) {
      throw new InvalidArgumentError(task, path, 'has symbol keys');
    }
    text = `{${parts.join(',')}}`;
  }
  ancestors.delete(value);
  return text;
}

function unreadable(task: string, path: string, error: unknown): InvalidArgumentError {
  return new InvalidArgumentError(task, path, `could not be read: ${describe(error)}`, { cause: error });
}

/** An instance passed as an argument: most likely meant as an input. */
function instanceGiven(label: string): string {
  return `is the task instance ${label}: to compute with its value, require it in the factory, as in requires(${label})((value) => ...)`;
}

function foreignGiven(value: object): string {
  const foreign = foreignInstance(value);
  return foreign ? `is ${foreign}` : notPlain(value);
}

function notPlain(value: object): string {
  return `is ${describeType(value)}, not a plain object${value instanceof Promise ? ' (not awaited?)' : ''}`;
}

function describeType(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (typeof value === 'function') return 'a function';
  if (typeof value === 'symbol') return 'a symbol';
  if (typeof value === 'bigint') return 'a bigint';
  const made = (value as object).constructor;
  // Inherited from Object.prototype further up: made by Object.create, or a __proto__ key.
  if (made === Object) return 'an object whose prototype is another object';
  return made?.name ? `an instance of ${made.name}` : 'an object';
}
