import SuperJSON from 'superjson';
import { describe, isStackOverflow, SerializationError } from '../errors.js';
import { joinPieces } from '../storage/pieces.js';
import { loadValue, type ReferenceAnnotations } from './references.js';
import { registerTransformers } from './transformers.js';
import { findUnstorable } from './unstorable.js';
import { viewTypes } from './views.js';

/**
 * The superjson instance that stores task results. Register your own classes on it (not on the
 * default superjson instance) to store them (Error subclasses included: they keep their message,
 * stack and cause):
 * @example
 * ```ts
 * import { serializer } from 'checkpoint-tool';
 * serializer.registerClass(Point, { identifier: 'Point' });
 * ```
 */
// `dedupe`: a shared object is written once, not once per path to it (2^n copies of an object
// held twice at each of n levels); see references.ts.
export const serializer: SuperJSON = new SuperJSON({ dedupe: true });

// Typed arrays and ArrayBuffers are stored as binary sections after the JSON, never as JSON
// arrays of numbers: bit-exact (NaN payloads, -0) and about as large as the bytes themselves.
// The custom transformers below are only ever called inside `serialize`/`deserialize`, which set
// `sections` for the duration of one synchronous call.
let sections: { views: ArrayBufferView[]; length: number } | undefined;
let loaded: Uint8Array | undefined;

type Placeholder = { o: number; n: number };

function addSection(bytes: ArrayBufferView): Placeholder {
  if (!sections) throw new SerializationError('binary values can only be stored through checkpoint-tool');
  const placeholder = { o: sections.length, n: bytes.byteLength };
  sections.views.push(bytes);
  sections.length = align8(sections.length + bytes.byteLength);
  return placeholder;
}

function section({ o, n }: Placeholder): Uint8Array {
  if (!loaded) throw new SerializationError('binary values can only be loaded through checkpoint-tool');
  return loaded.subarray(o, o + n);
}

// One transformer for every kind of view: superjson asks each transformer about every object it
// walks, and one `ArrayBuffer.isView` is far cheaper than an `instanceof` per kind.
serializer.registerCustom<ArrayBufferView, Placeholder & { t: string }>(
  {
    isApplicable: (value): value is ArrayBufferView =>
      ArrayBuffer.isView(value) && viewTypes[value.constructor.name] === value.constructor,
    serialize: (view) => ({ t: view.constructor.name, ...addSection(view) }),
    deserialize: (placeholder) => {
      const View = Object.hasOwn(viewTypes, placeholder.t) ? viewTypes[placeholder.t] : undefined;
      if (!View) throw new SerializationError(`unknown kind of binary value: ${placeholder.t}`);
      const size = View.BYTES_PER_ELEMENT ?? 1;
      let bytes = section(placeholder);
      // A view needs its offset aligned to its element size; copy in the rare case it is not.
      if (bytes.byteOffset % size !== 0) bytes = bytes.slice();
      return new View(bytes.buffer, bytes.byteOffset, placeholder.n / size);
    },
  },
  'View',
);
serializer.registerCustom<ArrayBuffer, Placeholder>(
  {
    isApplicable: (value): value is ArrayBuffer => value instanceof ArrayBuffer,
    serialize: (buffer) => addSection(new Uint8Array(buffer)),
    deserialize: (placeholder) => section(placeholder).slice().buffer,
  },
  'ArrayBuffer',
);

registerTransformers(serializer);

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Encodes a value as bytes: a 4-byte JSON length, superjson's JSON, padding to 8 bytes, then the
 * binary sections, each padded to 8 bytes. Throws {@link SerializationError} for anything that
 * would not come back equal.
 */
export function serialize(value: unknown): Uint8Array {
  const bytes = joinPieces(serializePieces(value));
  // Its own buffer, never a shared slab's (see plainHead): safe to move to another thread.
  return bytes.byteLength === bytes.buffer.byteLength ? bytes : bytes.slice();
}

/**
 * Encodes a value as {@link serialize} does, in pieces laid end to end: a typed array of 64 KiB or
 * more is a piece of its own, a view of its memory rather than a copy, so that storing a large
 * array costs no second copy of it. The pieces are only valid while the value is left unchanged,
 * and may be views of a larger buffer (a small value's, of a shared slab).
 */
export function serializePieces(value: unknown): Uint8Array[] {
  // Plain JSON needs none of superjson's annotations: write its JSON as superjson would.
  if (isPlainJsonSafe(value)) {
    try {
      return [plainHead(JSON.stringify(value))];
    } catch {
      // Deeper than JSON.stringify's own stack allows: superjson's path reports it.
    }
  }
  sections = { views: [], length: 0 };
  let json: Uint8Array;
  let views: ArrayBufferView[];
  try {
    const problem = findUnstorable(serializer, value);
    if (problem) throw new SerializationError(problem);
    json = encoder.encode(JSON.stringify(serializer.serialize(value)));
    ({ views } = sections);
  } catch (error) {
    // Whatever else fails (nesting deeper than the stack, a throwing getter) is still about storing.
    if (error instanceof SerializationError) throw error;
    const why = isStackOverflow(error)
      ? 'it is nested too deeply (objects and arrays within each other)'
      : describe(error);
    throw new SerializationError(`value could not be stored: ${why}`, { cause: error });
  } finally {
    sections = undefined;
  }
  return [head(json), ...binarySections(views)];
}

const PIECE = 64 * 1024;
const PADDING = new Uint8Array(8);

/**
 * {@link head} of a plain JSON value's text, wrapped as superjson writes it: `{"json":...}`. Short
 * ASCII text, the usual small result, is copied in without being encoded first, into a slice of a
 * shared slab: a buffer of its own per small value costs about 250 bytes of objects, and with them
 * a collection in a run of 10,000 instances. A slab's slices are never written again once given
 * out, and stores copy values as small as these (the memory store's chunks, IndexedDB's records).
 */
function plainHead(text: string): Uint8Array {
  const length = PLAIN_OPEN.length + text.length + 1;
  const size = align8(4 + length);
  if (size <= SLICE_MAX) {
    // A slab's byteLength, not SLAB: one a store moved to another thread (detached) is replaced.
    if (slabUsed + size > slab.byteLength) {
      slab = new ArrayBuffer(SLAB);
      slabUsed = 0;
    }
    const bytes = new Uint8Array(slab, slabUsed, size);
    bytes.set(PLAIN_OPEN, 4);
    const start = 4 + PLAIN_OPEN.length;
    let i = 0;
    for (; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code > 0x7f) break;
      bytes[start + i] = code;
    }
    if (i === text.length) {
      bytes[start + i] = 0x7d; // }
      // The padding and the length's high bytes too: a slice given up (text that is not ASCII)
      // leaves what it wrote for the next one.
      bytes.fill(0, start + i + 1);
      bytes[0] = length & 0xff;
      bytes[1] = length >>> 8;
      bytes[2] = 0;
      bytes[3] = 0;
      slabUsed += size;
      return bytes;
    }
  }
  return head(encoder.encode(`{"json":${text}}`));
}

/** The size of a shared slab of small values' bytes, and of the largest slice given from one. */
const SLAB = 16 * 1024;
const SLICE_MAX = 1024;
let slab = new ArrayBuffer(SLAB);
let slabUsed = 0;

const PLAIN_OPEN = new TextEncoder().encode('{"json":');

/** The 4-byte JSON length, the JSON and padding to 8 bytes. */
function head(json: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(align8(4 + json.length));
  bytes[0] = json.length & 0xff;
  bytes[1] = (json.length >>> 8) & 0xff;
  bytes[2] = (json.length >>> 16) & 0xff;
  bytes[3] = (json.length >>> 24) & 0xff;
  bytes.set(json, 4);
  return bytes;
}

/** The binary sections, each padded to 8 bytes: large ones as views, runs of small ones copied together. */
function binarySections(views: readonly ArrayBufferView[]): Uint8Array[] {
  const pieces: Uint8Array[] = [];
  let small: Uint8Array[] = [];
  const flushSmall = () => {
    // Always two pieces or more (each view has its padding, even empty), so always a copy.
    if (small.length > 0) pieces.push(joinPieces(small));
    small = [];
  };
  for (const view of views) {
    const bytes = new Uint8Array(view.buffer, view.byteOffset, view.byteLength);
    const padding = PADDING.subarray(0, align8(bytes.length) - bytes.length);
    if (bytes.length >= PIECE) {
      flushSmall();
      pieces.push(bytes);
      if (padding.length > 0) pieces.push(padding);
    } else {
      small.push(bytes, padding);
    }
  }
  flushSmall();
  return pieces;
}
/** Decodes bytes made by {@link serialize}. Typed arrays are views into `bytes` where aligned. */
export function deserialize(bytes: Uint8Array): unknown {
  const length = new DataView(bytes.buffer, bytes.byteOffset, 4).getUint32(0, true);
  const { json, meta } = JSON.parse(decoder.decode(bytes.subarray(4, 4 + length))) as ReturnType<
    SuperJSON['serialize']
  >;
  if (!meta) return json; // plain JSON, stored without annotations
  loaded = bytes.subarray(align8(4 + length));
  try {
    // References are restored by loadValue: superjson's own restoration loses entries of Maps and
    // Sets that hold shared objects, and follows paths through any property.
    return loadValue(
      () => serializer.deserialize({ json, meta: { ...meta, referentialEqualities: undefined } }, { inPlace: true }),
      meta.referentialEqualities as ReferenceAnnotations | undefined,
      meta.v ?? 0,
    );
  } catch (error) {
    if (error instanceof SerializationError) throw error;
    throw new SerializationError(`superjson could not decode it: ${describe(error)}`, { cause: error });
  } finally {
    loaded = undefined;
  }
}

/**
 * Whether a value is JSON that comes back equal from `JSON.parse`: finite numbers other than -0,
 * dense arrays and plain objects without `undefined` members or keys that need care, each object
 * met once (shared references and cycles need superjson's annotations). Anything else, or anything
 * with more than 100,000 objects, takes superjson's path.
 */
function isPlainJsonSafe(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return isPlainJson(value, undefined as never);
  try {
    return isPlainJson(value, new Set());
  } catch {
    return false; // nested deeper than the stack: superjson's path reports it
  }
}

function isPlainJson(value: unknown, seen: Set<object>): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value) && !Object.is(value, -0);
    case 'object':
      break;
    default:
      return false;
  }
  if (value === null) return true;
  if (seen.has(value) || seen.size > 100_000) return false;
  seen.add(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      if (!(i in value) || !isPlainJson(value[i], seen)) return false;
    }
    return true;
  }
  if (Object.getPrototypeOf(value) !== Object.prototype) return false;
  for (const key in value) {
    if (key === '__proto__' || key === 'constructor' || key === 'prototype') return false;
    if (!isPlainJson((value as Record<string, unknown>)[key], seen)) return false;
  }
  return Object.getOwnPropertySymbols(value).length === 0;
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8; // not `(n + 7) & ~7`, which wraps past 2 GB
}
