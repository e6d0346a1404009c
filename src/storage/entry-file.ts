import { crc32 } from 'node:zlib';
import type { EntryMeta } from './types.js';

// The layout of one fsStore entry file:
//   "CPE2" | u32 metadata length | u32 CRC-32 of the metadata | u32 CRC-32 of the value
//   | metadata JSON | padding to 8 bytes | value
// The value starts 8-aligned so that typed arrays can be read as views without a copy. The two
// checksums catch truncated, bit-flipped and foreign files, which are then treated as missing.
const MAGIC = [0x43, 0x50, 0x45, 0x32]; // "CPE2"
const PREFIX = 16;
const encoder = new TextEncoder();

/** A parsed entry header. */
export interface Header {
  readonly meta: EntryMeta;
  /** Where the value starts in the file. */
  readonly valueStart: number;
  /** The CRC-32 the value must have. */
  readonly valueChecksum: number;
}

/**
 * The header of an entry, in two steps: its length is known from the metadata alone, so that the
 * value can be written at its place while its checksum is still being computed; `bytes` then
 * makes the header itself.
 */
export function headerOf(meta: EntryMeta): { length: number; bytes(valueChecksum: number): Uint8Array } {
  const json = encoder.encode(JSON.stringify(meta));
  const length = align8(PREFIX + json.length);
  return {
    length,
    bytes(valueChecksum) {
      const header = new Uint8Array(length);
      const view = new DataView(header.buffer);
      header.set(MAGIC);
      view.setUint32(4, json.length, true);
      view.setUint32(8, crc32(json), true);
      view.setUint32(12, valueChecksum, true);
      header.set(json, PREFIX);
      return header;
    },
  };
}

/** The CRC-32 of value bytes given in pieces, as a header records it. */
export function valueChecksum(value: readonly Uint8Array[]): number {
  let crc = 0;
  for (const piece of value) crc = crc32(piece, crc);
  return crc;
}

/**
 * Bytes needed to hold the header, once its first 16 bytes are known, or a reason why the bytes
 * are not an entry.
 */
export function headerLength(prefix: Uint8Array): number | string {
  if (prefix.length < PREFIX) return 'shorter than an entry header';
  if (MAGIC.some((byte, i) => prefix[i] !== byte)) return 'not an entry file';
  return align8(PREFIX + new DataView(prefix.buffer, prefix.byteOffset, PREFIX).getUint32(4, true));
}

/** Parses the header at the start of `bytes`, or gives the reason it is not a sound header. */
export function decodeHeader(bytes: Uint8Array): Header | string {
  const valueStart = headerLength(bytes);
  if (typeof valueStart === 'string') return valueStart;
  if (bytes.length < valueStart) return 'truncated in its header';
  const view = new DataView(bytes.buffer, bytes.byteOffset, PREFIX);
  const json = bytes.subarray(PREFIX, PREFIX + view.getUint32(4, true));
  if (crc32(json) !== view.getUint32(8, true)) return 'metadata checksum mismatch';
  try {
    const meta = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.length).toString()) as EntryMeta;
    const sound = meta?.format === 1 && typeof meta.key === 'string' && Number.isInteger(meta.size) && meta.size >= 0;
    return sound ? { meta, valueStart, valueChecksum: view.getUint32(12, true) } : 'metadata of another format';
  } catch {
    return 'metadata is not JSON';
  }
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8; // not `(n + 7) & ~7`, which wraps past 2 GB
}
