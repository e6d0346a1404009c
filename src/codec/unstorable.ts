import type SuperJSON from 'superjson';
import { foreignInstance, isInstance } from '../instance.js';
import { Computation } from '../requires.js';
import { holdsObjects, isStoredError } from './transformers.js';
import { viewTypes } from './views.js';

/**
 * Finds a value superjson would store lossily or not at all: functions, symbols, class instances
 * it does not know, typed array subclasses (Node's `Buffer`), sparse arrays and symbol keys.
 * Returns a message naming its path (the first path the walk meets it at), or `undefined`. Each
 * object is looked at once, however many paths lead to it: shared and cyclic references are
 * stored, and restored.
 */
export function findUnstorable(serializer: SuperJSON, value: unknown): string | undefined {
  return find(serializer, value, 'value', new Set());
}

function find(serializer: SuperJSON, value: unknown, path: string, visited: Set<object>): string | undefined {
  if (typeof value === 'function') return `${path} is a function, which cannot be stored`;
  if (typeof value === 'symbol') {
    if (serializer.symbolRegistry.getIdentifier(value) !== undefined) return undefined;
    return `${path} is a symbol, which cannot be stored unless registered with serializer.registerSymbol`;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (visited.has(value)) return undefined;
  visited.add(value);
  const custom = () => serializer.customTransformerRegistry.findApplicable(value) !== undefined;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    // Only the exact built-in classes have a binary transformer; superjson would store a subclass
    // as a JSON array it then cannot read back.
    if (custom()) return undefined;
    return `${path} is an instance of ${className(value)}, a subclass of ${baseName(value)}, which cannot be stored: store a plain ${baseName(value)} instead, or register it with serializer.registerCustom`;
  }
  const proto = Object.getPrototypeOf(value);
  const plain = proto === Object.prototype || proto === null;
  const registered = !plain && serializer.classRegistry.getIdentifier(value.constructor as never) !== undefined;
  const known =
    plain ||
    registered ||
    Array.isArray(value) ||
    value instanceof Map ||
    value instanceof Set ||
    value instanceof Date ||
    value instanceof RegExp ||
    value instanceof URL ||
    custom();
  if (!known) {
    // Slips whose generic message would point at registering a class: a value not awaited, a
    // task instance returned where its value was meant, requires called in the computation.
    if (value instanceof Promise) {
      return `${path} is a Promise, which cannot be stored: await it (a computation's own promise is awaited, not one inside its value)`;
    }
    if (value instanceof Computation) {
      return `${path} is requires(...)(fn), which a factory returns, not a computation: call requires in the factory, as in \`(x) => requires(other(x))((value) => ...)\``;
    }
    if (isInstance(value)) {
      return `${path} is the task instance ${value.label}, not its value: to compute with its value, require it, as in requires(${value.label})((value) => ...)`;
    }
    const foreign = foreignInstance(value);
    if (foreign) return `${path} is ${foreign}`;
    if (Object.getPrototypeOf(proto) === null) {
      return `${path} is a plain object of another realm (a vm context, an iframe), which superjson takes for an instance of an unknown class: make it in this realm (structuredClone(value) does)`;
    }
    if (value.constructor === Object) {
      return `${path} is an object whose prototype is another object (made by Object.create, or a __proto__ key), which cannot be stored: copy what it holds into a plain object`;
    }
    // Registrations are per thread: a class registered in the page only is unknown in a worker.
    return `${path} is an instance of ${className(value)}, which superjson does not know in this thread: register it with serializer.registerClass or serializer.registerCustom, in every thread (with a worker pool, in the module that defines the tasks, which each worker loads)`;
  }
  if (Object.getOwnPropertySymbols(value).length > 0) return `${path} has symbol keys, which cannot be stored`;
  if (value instanceof Map) {
    let i = 0;
    for (const [key, item] of value) {
      if (typeof key === 'object' && key !== null) holdsObjects(value);
      const problem =
        find(serializer, key, `${path}.keys[${i}]`, visited) ?? find(serializer, item, `${path}.get(${i})`, visited);
      if (problem) return problem;
      i++;
    }
  } else if (value instanceof Set) {
    let i = 0;
    for (const item of value) {
      if (typeof item === 'object' && item !== null) holdsObjects(value);
      const problem = find(serializer, item, `${path}.values[${i++}]`, visited);
      if (problem) return problem;
    }
  } else if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      // superjson would bring a hole back as null.
      if (!(i in value)) return `${path}[${i}] is a hole in a sparse array, which cannot be stored`;
      const problem = find(serializer, value[i], `${path}[${i}]`, visited);
      if (problem) return problem;
    }
  } else if (plain || registered || isStoredError(value)) {
    const entries: [string, unknown][] = Object.entries(value);
    if (value instanceof Error && Object.hasOwn(value, 'cause')) entries.push(['cause', value.cause]);
    if (value instanceof AggregateError) entries.push(['errors', value.errors]);
    for (const [key, item] of entries) {
      const itemPath = `${path}${/^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`}`;
      const problem = find(serializer, item, itemPath, visited);
      if (problem) return problem;
    }
  }
  return undefined;
}

function className(value: object): string {
  return value.constructor?.name || 'an unknown class';
}

function baseName(value: object): string {
  return Object.values(viewTypes).find((base) => value instanceof base)?.name ?? 'ArrayBuffer';
}
