/**
 * The behaviour of the pool protocol shared by both ends: which buffers a message may move, and
 * how a thrown value is flattened into a {@link ThrownEnvelope} and rebuilt.
 * @module
 */
import { AbortError, CheckpointError, SerializationError, TaskDefinitionError } from '../errors.js';
import type { ThrownEnvelope } from './protocol.js';

/**
 * The buffers of `values` that a message can move instead of copying: every `ArrayBuffer`, and
 * the buffer of each typed array or `DataView` that covers its buffer wholly. A view into part of
 * a larger buffer (a value decoded from the cache is a view into the entry's bytes) is copied, as
 * moving it would take the rest of that buffer away from its owner. Each buffer is listed once.
 * @param movable - for each value, whether it may be moved; absent: all of them
 */
export function transferables(values: readonly unknown[], movable?: readonly boolean[]): Transferable[] {
  const found = new Set<ArrayBuffer>();
  const seen = new Set<object>();
  const visit = (value: unknown): void => {
    if (typeof value !== 'object' || value === null || seen.has(value)) return;
    seen.add(value);
    if (value instanceof ArrayBuffer) {
      if (value.byteLength > 0) found.add(value);
    } else if (ArrayBuffer.isView(value)) {
      const { buffer } = value;
      if (buffer instanceof ArrayBuffer && value.byteOffset === 0 && value.byteLength === buffer.byteLength) {
        if (buffer.byteLength > 0) found.add(buffer);
      }
    } else if (Array.isArray(value)) {
      for (const item of value) if (typeof item === 'object') visit(item);
    } else if (value instanceof Map) {
      for (const [key, item] of value) {
        visit(key);
        visit(item);
      }
    } else if (value instanceof Set) {
      for (const item of value) visit(item);
    } else {
      for (const item of Object.values(value)) visit(item);
    }
  };
  values.forEach((value, i) => {
    if (movable === undefined || movable[i]) visit(value);
  });
  return [...found];
}

const builtins: Record<string, new (message: string) => Error> = {
  Error,
  TypeError,
  RangeError,
  SyntaxError,
  ReferenceError,
  EvalError,
  URIError,
  // This library's own errors whose constructor takes just a message.
  CheckpointError,
  TaskDefinitionError,
  SerializationError,
  AbortError,
};
const ownKeys = new Set(['name', 'message', 'stack', 'cause', 'errors']);

/** Flattens anything thrown into an envelope that survives structured clone. */
export function toEnvelope(thrown: unknown): ThrownEnvelope {
  if (!(thrown instanceof Error)) return { kind: 'value', value: cloneable(thrown) ? thrown : String(thrown) };
  const className = thrown.constructor?.name;
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(thrown)) {
    if (!ownKeys.has(key) && cloneable(value)) props[key] = value;
  }
  return {
    kind: 'error',
    name: thrown.name === 'Error' && className && className !== 'Error' ? className : thrown.name,
    message: thrown.message,
    stack: thrown.stack,
    ...('cause' in thrown ? { cause: toEnvelope(thrown.cause) } : {}),
    ...(thrown instanceof AggregateError ? { errors: thrown.errors.map(toEnvelope) } : {}),
    props,
  };
}

/**
 * Rebuilds what an envelope carries: an instance of the built-in class (or this library's error
 * class) of that name, else an `Error` whose `name` is the original class name; with the original
 * message, stack, cause and properties.
 */
export function fromEnvelope(envelope: ThrownEnvelope): unknown {
  if (envelope.kind === 'value') return envelope.value;
  const { name, message, stack, cause, errors, props } = envelope;
  const options = cause === undefined ? undefined : { cause: fromEnvelope(cause) };
  let error: Error;
  if (errors !== undefined) error = new AggregateError(errors.map(fromEnvelope), message, options);
  else {
    const ErrorClass = Object.hasOwn(builtins, name) ? builtins[name]! : Error;
    error = new (ErrorClass as ErrorConstructor)(message, options);
  }
  if (error.name !== name) error.name = name;
  if (stack !== undefined) error.stack = stack;
  return Object.assign(error, props);
}

function cloneable(value: unknown): boolean {
  if (value === null || (typeof value !== 'object' && typeof value !== 'function' && typeof value !== 'symbol')) {
    return true;
  }
  try {
    structuredClone(value);
    return true;
  } catch {
    return false;
  }
}
