import type { EntryMeta } from './types.js';

// One entry in one file or record: magic, metadata length, metadata JSON, padding to 8 bytes, value.
// The value starts 8-aligned so that typed arrays can be read as views without a copy.
const MAGIC = [0x43, 0x50, 0x45, 0x31]; // "CPE1"
const PREFIX = 8;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The header bytes (magic, length, metadata, padding) that precede an entry's value. */
export function encodeHeader(meta: EntryMeta): Uint8Array {
  const json = encoder.encode(JSON.stringify(meta));
  const header = new Uint8Array(align8(PREFIX + json.length));
  header.set(MAGIC);
  new DataView(header.buffer).setUint32(4, json.length, true);
  header.set(json, PREFIX);
  return header;
}

/** Bytes needed to hold the header, once its first 8 bytes are known; `undefined` if foreign. */
export function headerLength(prefix: Uint8Array): number | undefined {
  if (prefix.length < PREFIX || MAGIC.some((byte, i) => prefix[i] !== byte)) return undefined;
  const length = new DataView(prefix.buffer, prefix.byteOffset, PREFIX).getUint32(4, true);
  return align8(PREFIX + length);
}

/**
 * Parses the header at the start of `bytes`. Returns the metadata and where the value starts, or
 * `undefined` when the bytes are not an entry of this format.
 */
export function decodeHeader(bytes: Uint8Array): { meta: EntryMeta; valueStart: number } | undefined {
  const valueStart = headerLength(bytes);
  if (valueStart === undefined || bytes.length < valueStart) return undefined;
  const length = new DataView(bytes.buffer, bytes.byteOffset, PREFIX).getUint32(4, true);
  try {
    const meta = JSON.parse(decoder.decode(bytes.subarray(PREFIX, PREFIX + length))) as EntryMeta;
    const whole = meta?.format === 1 && typeof meta.key === 'string' && Number.isInteger(meta.size) && meta.size >= 0;
    return whole ? { meta, valueStart } : undefined;
  } catch {
    return undefined;
  }
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8; // not `(n + 7) & ~7`, which wraps past 2 GB
}
