import { unzlibSync, zlibSync } from 'fflate';

/** Compresses value bytes with zlib (fflate) at the given level (0-9). */
export function compress(bytes: Uint8Array, level: number): Uint8Array {
  return zlibSync(bytes, { level: level as 0 });
}

/**
 * Reverses {@link compress}; throws on corrupted input (zlib's Adler-32 check). Given the
 * decompressed length, it inflates straight into a buffer of that size instead of growing one.
 */
export function decompress(bytes: Uint8Array, rawSize?: number): Uint8Array {
  const out = rawSize === undefined ? undefined : new Uint8Array(rawSize);
  const inflated = unzlibSync(bytes, out && { out });
  if (out && inflated.length !== rawSize)
    throw new RangeError(`inflated ${inflated.length} bytes, expected ${rawSize}`);
  return inflated;
}
