import { unzlibSync, zlibSync } from 'fflate';

/** Compresses value bytes with zlib (fflate) at the given level (0-9). */
export function compress(bytes: Uint8Array, level: number): Uint8Array {
  return zlibSync(bytes, { level: level as 0 });
}

/** Reverses {@link compress}; throws on corrupted input (zlib's Adler-32 check). */
export function decompress(bytes: Uint8Array): Uint8Array {
  return unzlibSync(bytes);
}
