/**
 * CRC-32 (the zlib polynomial) in plain JavaScript, for the browser store: Node's `zlib.crc32` is
 * faster where it exists, and none of this library's dependencies exports one.
 * @module
 */

const table = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  table[n] = c;
}

/** The CRC-32 of `bytes`, continuing from `crc` (the CRC-32 of the bytes before them). */
export function crc32(bytes: Uint8Array, crc = 0): number {
  let c = ~crc;
  for (let i = 0; i < bytes.length; i++) c = (table[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> 8);
  return ~c >>> 0;
}
