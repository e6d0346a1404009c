import { unzlibSync, Zlib } from 'fflate';

const CHUNK = 1 << 20;

/**
 * Compresses value bytes, given in pieces, with zlib (fflate) at the given level (0-9), streaming
 * them so that no joined copy of the input is made. Returns the compressed bytes in pieces.
 */
export function compress(pieces: readonly Uint8Array[], level: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  const stream = new Zlib({ level: level as 0 }, (chunk) => {
    out.push(chunk);
  });
  // In chunks of 1 MiB: fflate sizes its output buffer by what it is given at once.
  const chunks = pieces.flatMap((piece) =>
    Array.from({ length: Math.ceil(piece.length / CHUNK) }, (_, i) => piece.subarray(i * CHUNK, (i + 1) * CHUNK)),
  );
  if (chunks.length === 0) stream.push(new Uint8Array(0), true);
  chunks.forEach((chunk, i) => {
    stream.push(chunk, i === chunks.length - 1);
  });
  return out;
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
