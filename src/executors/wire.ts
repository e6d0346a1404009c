/**
 * The behaviour of the pool protocol shared by both ends: the form each value crosses in, which
 * buffers a message may move, and how a thrown value is flattened into a {@link ThrownEnvelope}
 * and rebuilt.
 * @module
 */
import { deserialize, serialize } from '../codec/serialize.js';
import { isRegisteredError } from '../codec/transformers.js';
import {
  AbortError,
  CheckpointError,
  describe,
  platformErrors,
  SerializationError,
  TaskDefinitionError,
} from '../errors.js';
import type { JobMessage, Packed, StartedNotice, ThrownEnvelope } from './protocol.js';
import type { Job } from './types.js';

/**
 * Puts a value in the form it crosses threads in: as it is when structured clone copies it
 * faithfully, else as the bytes the cache would store, so that it arrives as it would come back
 * from the cache (registered classes included). Throws the codec's {@link SerializationError},
 * naming the path, for a value the cache cannot store either.
 */
export function pack(value: unknown): Packed {
  if (clonesFaithfully(value)) return { value };
  const bytes = serialize(value);
  // The bytes are moved to the other thread: they must own their whole buffer.
  const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
  return { bytes: whole ? bytes : bytes.slice() };
}

/** The value that {@link pack} packed. */
function unpack(packed: Packed): unknown {
  return 'bytes' in packed ? deserialize(packed.bytes) : packed.value;
}

/** A job's inputs, each {@link pack}ed for the trip to a worker. */
export function packInputs(job: Job): Packed[] {
  return job.inputs.map((input, i) => {
    try {
      return pack(input);
    } catch (error) {
      throw new SerializationError(`Input ${i} of ${jobLabel(job)} cannot be sent to its worker: ${describe(error)}`, {
        cause: error,
      });
    }
  });
}

/** A job's inputs as they were before {@link packInputs}, in the worker. */
export function unpackInputs(job: JobMessage): unknown[] {
  return job.inputs.map((input, i) =>
    unpackFor(input, () => `Input ${i} of ${jobLabel(job)}`, 'in its worker', 'workers'),
  );
}

/** A job's result as it was before the worker packed it, in the calling thread. */
export function unpackResult(job: Job, result: Packed): unknown {
  return unpackFor(result, () => `The value of ${jobLabel(job)}`, 'from its worker', 'calling thread');
}

/** {@link unpack}, its error naming what was unpacked; `what` is only worked out for that error. */
function unpackFor(packed: Packed, what: () => string, where: string, thread: string): unknown {
  try {
    return unpack(packed);
  } catch (error) {
    throw new SerializationError(
      `${what()} cannot be decoded ${where}: ${describe(error)}; classes registered on \`serializer\` must be registered in the ${thread} too`,
      { cause: error },
    );
  }
}

/** The {@link StartedNotice} a worker posts as it starts a job. */
export const startedNotice: StartedNotice = { checkpointTool: 'started' };

/** Whether a message from a worker is its {@link StartedNotice}. */
export function isStartedNotice(data: unknown): boolean {
  return (data as Partial<StartedNotice> | null | undefined)?.checkpointTool === 'started';
}

/** A job as its instance's label shows it in messages: `task(arg1,arg2)`. */
export function jobLabel(job: Pick<Job, 'task' | 'args'>): string {
  return `${job.task}(${JSON.stringify(job.args).slice(1, -1)})`;
}

// The classes that structured clone rebuilds as themselves, with everything the cache keeps.
// Errors are not among them: a clone drops their own properties and an AggregateError's members.
const leaves = new Set<object | null>([
  Date.prototype,
  RegExp.prototype,
  ArrayBuffer.prototype,
  DataView.prototype,
  Int8Array.prototype,
  Uint8Array.prototype,
  Uint8ClampedArray.prototype,
  Int16Array.prototype,
  Uint16Array.prototype,
  Int32Array.prototype,
  Uint32Array.prototype,
  Float32Array.prototype,
  Float64Array.prototype,
  BigInt64Array.prototype,
  BigUint64Array.prototype,
]);

/**
 * Whether structured clone copies `value` as the cache would give it back: primitives other than
 * symbols, plain objects without symbol keys, arrays, Maps and Sets of such values, and the
 * classes above. Anything else (another class, a null prototype, a function, a symbol, a
 * typed-array subclass such as `Buffer`, a view of shared memory) stops the walk at once.
 */
function clonesFaithfully(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return typeof value !== 'symbol' && typeof value !== 'function';
  try {
    return faithful(value, new Set());
  } catch {
    return false; // nested deeper than the stack: the codec reports it
  }
}

function faithful(object: object, seen: Set<object>): boolean {
  if (seen.has(object)) return true; // structured clone keeps shared and cyclic references
  seen.add(object);
  const proto = Object.getPrototypeOf(object);
  if (proto === Object.prototype) {
    for (const key in object) if (!item((object as Record<string, unknown>)[key], seen)) return false;
    return Object.getOwnPropertySymbols(object).length === 0;
  }
  if (proto === Array.prototype) {
    const array = object as unknown[];
    for (let i = 0; i < array.length; i++) if (!item(array[i], seen)) return false;
    return true;
  }
  if (proto === Map.prototype) {
    for (const [key, member] of object as Map<unknown, unknown>) {
      if (!item(key, seen) || !item(member, seen)) return false;
    }
    return true;
  }
  if (proto === Set.prototype) {
    for (const member of object as Set<unknown>) if (!item(member, seen)) return false;
    return true;
  }
  if (ArrayBuffer.isView(object)) return leaves.has(proto) && object.buffer instanceof ArrayBuffer;
  return leaves.has(proto);
}

function item(value: unknown, seen: Set<object>): boolean {
  if (typeof value === 'object') return value === null || faithful(value, seen);
  return typeof value !== 'symbol' && typeof value !== 'function';
}

/**
 * The buffers a message of packed values can move instead of copying: the bytes of every encoded
 * value (made for the trip, nobody else holds them), and, in each value that `movable` allows,
 * every `ArrayBuffer` and the buffer of each typed array or `DataView` that covers its buffer
 * wholly. A view into part of a larger buffer (a value decoded from the cache is a view into the
 * entry's bytes) is copied, as moving it would take the rest of that buffer away from its owner.
 * Each buffer is listed once.
 * @param movable - whether the values may be moved: all, none, or for each value
 */
export function transferables(
  packed: readonly Packed[],
  movable: boolean | readonly boolean[] | undefined,
): Transferable[] {
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
  packed.forEach((one, i) => {
    if ('bytes' in one) found.add(one.bytes.buffer as ArrayBuffer);
    else if (movable === true || (typeof movable === 'object' && movable[i])) visit(one.value);
  });
  return [...found];
}

// This library's own errors whose constructor takes just a message: rebuilt only from one of them.
const ownErrors: Record<string, new (message: string) => Error> = {
  CheckpointError,
  TaskDefinitionError,
  SerializationError,
  AbortError,
};
const ownKeys = new Set(['name', 'message', 'stack', 'cause', 'errors']);

/**
 * Flattens anything thrown into an envelope that survives structured clone. An error met again
 * down its own `cause` chain (`e.cause = e`) becomes its text there.
 */
export function toEnvelope(thrown: unknown, within: ReadonlySet<unknown> = new Set()): ThrownEnvelope {
  // Checked apart: a DOMException need not be an Error (it is from Node 17 and in browsers).
  const dom = isDomException(thrown);
  if ((!(thrown instanceof Error) && !dom) || within.has(thrown)) {
    return { kind: 'value', value: cloneable(thrown) && !within.has(thrown) ? thrown : String(thrown) };
  }
  const chain = new Set(within).add(thrown);
  const error = thrown as Error;
  const className = error.constructor?.name;
  const props: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(error)) {
    if (!ownKeys.has(key) && cloneable(value)) props[key] = value;
  }
  const family = dom ? 'DOMException' : error instanceof CheckpointError ? 'checkpoint' : undefined;
  return {
    kind: 'error',
    name: error.name === 'Error' && !dom && className && className !== 'Error' ? className : error.name,
    ...(family ? { family } : {}),
    message: error.message,
    stack: error.stack,
    ...('cause' in error ? { cause: toEnvelope(error.cause, chain) } : {}),
    ...(error instanceof AggregateError ? { errors: error.errors.map((one) => toEnvelope(one, chain)) } : {}),
    props,
    ...(isRegisteredError(error) ? registeredBytes(error) : {}),
  };
}

/** A registered error as the cache stores it (its class, fields and cause), if the cache can store it. */
function registeredBytes(error: Error): { bytes: Uint8Array } | undefined {
  try {
    return { bytes: serialize(error) };
  } catch {
    return undefined; // a property the cache refuses: the error travels flattened only
  }
}

/**
 * Rebuilds what an envelope carries: an instance of the built-in class of that name (or this
 * library's error class, for one of this library's errors; a `DOMException` of that name for a
 * `DOMException`, where the platform has them; a class registered with `serializer.registerClass`
 * in this thread, when it was one of those), else an `Error` whose `name` is the original class
 * name; with the original message, stack, cause and properties. So a `DOMException` named
 * `AbortError` (an aborted `fetch`) never comes back as this library's `AbortError`.
 */
export function fromEnvelope(envelope: ThrownEnvelope): unknown {
  if (envelope.kind === 'value') return envelope.value;
  const { name, family, message, stack, cause, errors, props, bytes } = envelope;
  if (bytes !== undefined) {
    try {
      return deserialize(bytes);
    } catch {
      // Its class is not registered in this thread: rebuilt from the flattened fields below.
    }
  }
  let error: Error;
  if (family === 'DOMException' && typeof DOMException === 'function') {
    // Browsers take no options object: the cause is set as `Error` would set it.
    error = new DOMException(message, name);
    if (cause !== undefined) {
      Object.defineProperty(error, 'cause', { value: fromEnvelope(cause), writable: true, configurable: true });
    }
  } else {
    const options = cause === undefined ? undefined : { cause: fromEnvelope(cause) };
    if (errors !== undefined) error = new AggregateError(errors.map(fromEnvelope), message, options);
    else {
      const classes = family === 'checkpoint' ? ownErrors : platformErrors;
      // One of this library's errors without a class here (a TaskFailedError of a nested run) is
      // still a CheckpointError, named as it was.
      const ErrorClass = Object.hasOwn(classes, name)
        ? classes[name]!
        : family === 'checkpoint'
          ? CheckpointError
          : Error;
      error = new (ErrorClass as ErrorConstructor)(message, options);
    }
    if (error.name !== name) error.name = name;
  }
  if (stack !== undefined) error.stack = stack;
  return Object.assign(error, props);
}

function isDomException(value: unknown): value is DOMException {
  return typeof DOMException === 'function' && value instanceof DOMException;
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
