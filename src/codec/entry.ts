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
  const { key, task } = instance;
  const created = Date.now();
  // Two literals rather than one with a spread of the optional `rawSize`: this runs once per
  // computed instance, and a spread builds and copies a second object.
  if (level === undefined) {
    const meta: EntryMeta = {
      format: 1,
      key,
      version: task.version,
      stamp,
      inputs,
      encoding: 'raw',
      size: rawSize,
      created,
    };
    return { meta, value: serialized };
  }
  const pieces = compress(serialized, level);
  const size = piecesLength(pieces);
  const meta: EntryMeta = {
    format: 1,
    key,
    version: task.version,
    stamp,
    inputs,
    encoding: 'zlib',
    size,
    rawSize,
    created,
  };
  return { meta, value: pieces };
}

/** Decodes stored value bytes back into the value. */
export function decodeValue(meta: EntryMeta, bytes: Uint8Array): unknown {
  return deserialize(meta.encoding === 'zlib' ? decompress(bytes, meta.rawSize) : bytes);
}
