import type { Instance } from '../instance.js';
import { piecesLength } from '../storage/pieces.js';
import type { Entry, EntryMeta } from '../storage/types.js';
import { compress, decompress } from './compress.js';
import { deserialize, serializePieces } from './serialize.js';

/**
 * Makes the entry to store for a computed value: serialized (and compressed when the task asks),
 * with the stamps of the inputs it was computed from. Throws a `SerializationError` for a value
 * that could not be stored faithfully.
 */
export function encodeEntry(
  instance: Instance<unknown>,
  value: unknown,
  stamp: string,
  inputs: readonly string[],
): Entry {
  const level = instance.task.compressLevel;
  const serialized = serializePieces(value);
  const rawSize = piecesLength(serialized);
  const pieces = level === undefined ? serialized : compress(serialized, level);
  const meta: { -readonly [K in keyof EntryMeta]: EntryMeta[K] } = {
    format: 1,
    key: instance.key,
    version: instance.task.version,
    stamp,
    inputs,
    encoding: level === undefined ? 'raw' : 'zlib',
    size: level === undefined ? rawSize : piecesLength(pieces),
    created: Date.now(),
  };
  // Set afterwards rather than spread into the literal: a spread, once per computed instance,
  // builds and copies a second object.
  if (level !== undefined) meta.rawSize = rawSize;
  return { meta, value: pieces };
}

/** Decodes stored value bytes back into the value. */
export function decodeValue(meta: EntryMeta, bytes: Uint8Array): unknown {
  return deserialize(meta.encoding === 'zlib' ? decompress(bytes, meta.rawSize) : bytes);
}
