/**
 * The kinds of typed-array views a value may hold, stored as binary sections.
 * @module
 */

/** A typed-array or DataView constructor. */
export type ViewConstructor = (new (
  buffer: ArrayBufferLike,
  byteOffset: number,
  length: number,
) => ArrayBufferView) & { BYTES_PER_ELEMENT?: number };

/** Every view kind, by its constructor's name. */
export const viewTypes: Readonly<Record<string, ViewConstructor>> = {
  Int8Array,
  Uint8Array,
  Uint8ClampedArray,
  Int16Array,
  Uint16Array,
  Int32Array,
  Uint32Array,
  Float32Array,
  Float64Array,
  BigInt64Array,
  BigUint64Array,
  DataView,
};
