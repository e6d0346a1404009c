import { crc32 } from 'node:zlib';
import { CheckpointError } from '../errors.js';
import { closeFile, fstatFile, openFile, readAt, writeAll } from './fs-calls.js';
import { piecesLength } from './pieces.js';
import type { EntryMeta } from './types.js';

// The layout of one fsStore entry file, and how one is written and read whole:
//   "CPE2" | u32 metadata length | u32 CRC-32 of the metadata | u32 CRC-32 of the value
//   | metadata JSON | padding to 8 bytes | value
// The value starts 8-aligned so that typed arrays can be read as views without a copy. The two
// checksums catch truncated, bit-flipped and foreign files, which are then treated as missing.
const MAGIC = [0x43, 0x50, 0x45, 0x32]; // "CPE2"
const PREFIX = 16;
/** The largest metadata an entry holds: 64 MiB, the input stamps of about two million inputs. */
const MAX_METADATA = 64 * 1024 * 1024;
const encoder = new TextEncoder();
// As `Buffer`'s `toString()` decodes: a leading byte order mark is kept, not dropped.
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

/** A parsed entry header. */
export interface Header {
  readonly meta: EntryMeta;
  /** Where the value starts in the file. */
  readonly valueStart: number;
  /** The CRC-32 the value must have. */
  readonly valueChecksum: number;
  /** The metadata's JSON, as stored. */
  readonly text: string;
}

/**
 * The header of an entry, in two steps: its length is known from the metadata alone, so that the
 * value can be written at its place while its checksum is still being computed; `bytes` then
 * makes the header itself.
 */
function headerOf(meta: EntryMeta): { length: number; bytes(valueChecksum: number): Uint8Array } {
  const json = encoder.encode(JSON.stringify(meta));
  if (json.length > MAX_METADATA) {
    const key = meta.key.length > 200 ? `${meta.key.slice(0, 200)}...` : meta.key;
    // The instance's key is its arguments' JSON: a huge argument, rather than millions of inputs.
    // In bytes, as the metadata is: text of three-byte characters takes fewer characters.
    const keyBytes = encoder.encode(meta.key).length;
    throw new CheckpointError(
      keyBytes > json.length / 2
        ? `the arguments ${key} take ${keyBytes} bytes as JSON, more than the ${MAX_METADATA} an entry file's metadata holds: pass a value this large as another instance's value (or a file's path), not as an argument`
        : `the metadata of ${key} takes ${json.length} bytes, more than the ${MAX_METADATA} an entry file holds (an instance with millions of inputs?)`,
    );
  }
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
function valueChecksum(value: readonly Uint8Array[]): number {
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
  const length = u32(prefix, 4);
  // A damaged length must not make a reader allocate and read gigabytes of a large file.
  if (length > MAX_METADATA) return `a metadata length of ${length} bytes, more than any entry has`;
  return align8(PREFIX + length);
}

/** Parses the header at the start of `bytes`, or gives the reason it is not a sound header. */
export function decodeHeader(bytes: Uint8Array): Header | string {
  const valueStart = headerLength(bytes);
  if (typeof valueStart === 'string') return valueStart;
  if (bytes.length < valueStart) return 'truncated in its header';
  const json = bytes.subarray(PREFIX, PREFIX + u32(bytes, 4));
  if (crc32(json) !== u32(bytes, 8)) return 'metadata checksum mismatch';
  try {
    const text = decoder.decode(json);
    const meta = JSON.parse(text) as EntryMeta;
    const sound = meta?.format === 1 && typeof meta.key === 'string' && Number.isInteger(meta.size) && meta.size >= 0;
    return sound ? { meta, valueStart, valueChecksum: u32(bytes, 12), text } : 'metadata of another format';
  } catch {
    return 'metadata is not JSON';
  }
}

/**
 * The little-endian 32-bit number at `at`: read byte by byte, as a warm run reads thousands of
 * headers and a `DataView` for each read is an object more each time.
 */
function u32(bytes: Uint8Array, at: number): number {
  return (
    ((bytes[at] as number) |
      ((bytes[at + 1] as number) << 8) |
      ((bytes[at + 2] as number) << 16) |
      ((bytes[at + 3] as number) << 24)) >>>
    0
  );
}

function align8(n: number): number {
  return Math.ceil(n / 8) * 8; // not `(n + 7) & ~7`, which wraps past 2 GB
}

/** How much of an entry file one read asks for (see {@link readEntry}). */
const READ_CHUNK = 8 * 1024 * 1024;

/** An entry file's bytes, its header (or why it has none) and the CRC-32 of the bytes after the header. */
export interface EntryRead {
  readonly bytes: Uint8Array;
  readonly header: Header | string;
  readonly checksum: number;
}

/**
 * Reads a whole entry file in chunks, computing the checksum of each chunk while libuv's threads
 * read the next: for a large value the checksum then costs next to no time of its own. A file
 * larger than one chunk is first checked by its header, so that a stray file of gigabytes is never
 * read whole only to be rejected.
 */
export async function readEntry(path: string): Promise<EntryRead> {
  const fd = await openFile(path, 'r');
  try {
    const size = (await fstatFile(fd)).size;
    const rejected = size > READ_CHUNK ? await rejectedByHeader(fd, size) : undefined;
    if (rejected) return rejected;
    // Its own memory, never a slice of Buffer's shared pool: the value is returned as a view of it.
    const bytes = Buffer.allocUnsafeSlow(size);
    let filled = 0;
    let valueStart: number | string | undefined;
    let checksum = 0;
    let reading = size > 0 ? readAt(fd, bytes.subarray(0, Math.min(READ_CHUNK, size)), 0) : undefined;
    while (reading) {
      const count = await reading;
      const from = filled;
      filled += count;
      reading =
        count > 0 && filled < size
          ? readAt(fd, bytes.subarray(filled, Math.min(filled + READ_CHUNK, size)), filled)
          : undefined;
      if (valueStart === undefined && filled >= 16) valueStart = headerLength(bytes.subarray(0, filled));
      if (typeof valueStart === 'number' && filled > valueStart) {
        checksum = crc32(bytes.subarray(Math.max(from, valueStart), filled), checksum);
      }
    }
    const whole = bytes.subarray(0, filled);
    return { bytes: whole, header: decodeHeader(whole), checksum };
  } finally {
    await closeFile(fd);
  }
}

/**
 * What {@link readEntry} gives for a file whose header is unsound, or records another size than
 * the file's, read from its header alone; `undefined` when the file is to be read whole.
 */
async function rejectedByHeader(fd: number, size: number): Promise<EntryRead | undefined> {
  let bytes = Buffer.allocUnsafe(Math.min(HEADER_PROBE, size));
  bytes = bytes.subarray(0, await readAt(fd, bytes, 0));
  const reject = (header: string): EntryRead => ({ bytes, header, checksum: 0 });
  const needed = headerLength(bytes);
  if (typeof needed === 'string') return reject(needed);
  if (needed > size) return reject('truncated in its header');
  if (needed > bytes.length) {
    bytes = Buffer.allocUnsafe(needed);
    bytes = bytes.subarray(0, await readAt(fd, bytes, 0));
  }
  const header = decodeHeader(bytes);
  if (typeof header === 'string') return reject(header);
  const expected = header.valueStart + header.meta.size;
  return expected === size ? undefined : reject(`${size} bytes instead of ${expected}`);
}

/** How much of a large entry file is read first for its header (see {@link rejectedByHeader}). */
const HEADER_PROBE = 64 * 1024;

/** From what value size the value is written while its checksum is computed (see {@link writeEntryTo}). */
const OVERLAP_FROM = 1024 * 1024;

/**
 * Writes an entry into an open file from its start, and resolves to its length. A small entry is
 * one write. For a large value, the value goes first, at its place after the header, and its
 * checksum is computed while libuv's threads write it, so that the checksum costs next to no time
 * of its own (a 100 MB value: about 30 ms saved); the header, which records it, is written once
 * the value is.
 */
export async function writeEntryTo(fd: number, meta: EntryMeta, value: readonly Uint8Array[]): Promise<number> {
  const header = headerOf(meta);
  const size = piecesLength(value);
  if (size < OVERLAP_FROM) {
    await writeAll(fd, [header.bytes(valueChecksum(value)), ...value], 0);
    return header.length + size;
  }
  const valueWritten = writeAll(fd, value, header.length);
  let headerBytes: Uint8Array;
  try {
    headerBytes = header.bytes(valueChecksum(value));
  } catch (error) {
    // The file is closed once the value's write has settled, never while it is under way.
    await valueWritten.catch(() => {});
    throw error;
  }
  // The header only once the value is written: written into a lock file, the entry leaves the
  // owner record at the file's start until then, so that a process killed while writing a large
  // value leaves a lock that others see is its dead owner's (see fs-lock-owner.ts).
  await valueWritten;
  await writeAll(fd, [headerBytes], 0);
  return header.length + size;
}
