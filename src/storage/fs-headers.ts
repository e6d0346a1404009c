/**
 * Reading and checking entry files' headers alone, as the fs store does to learn what is cached
 * without reading the values.
 * @module
 */
import * as fs from 'node:fs';
import { mapLimited } from '../map-limited.js';
import { decodeHeader, type Header, headerLength } from './entry-file.js';
import { fstatFile, isMissing, readAt, readingFile } from './fs-calls.js';

const HEADER_READ = 4096;
const scratch = Buffer.allocUnsafe(HEADER_READ);
/** An entry file's header, or why it is not one, and the file's size. */
export interface HeaderRead {
  readonly header: Header | string;
  readonly size: number;
}

/** Reads and checks an entry file's header; `undefined` when there is no such file. */
export function readHeader(path: string): Promise<HeaderRead | undefined> {
  // Callback-style calls: a warm run reads thousands of headers, and FileHandles cost more.
  return readingFile(path, async (fd) => {
    let bytes = Buffer.allocUnsafe(HEADER_READ);
    bytes = bytes.subarray(0, await readAt(fd, bytes, 0));
    // A short read is the whole file; only a longer file needs its size asked.
    const size = bytes.length < HEADER_READ ? bytes.length : (await fstatFile(fd)).size;
    const read = parseHeader(bytes, size);
    if (typeof read !== 'number') return read;
    bytes = Buffer.allocUnsafe(read);
    return parseHeader(bytes.subarray(0, await readAt(fd, bytes, 0)), size) as HeaderRead;
  });
}

/** {@link readHeader}, blocking: much faster for a file in the page cache. */
export function readHeaderNow(path: string): HeaderRead | undefined {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    // One buffer serves every blocking read: the header is parsed before the next read.
    let bytes = scratch.subarray(0, fs.readSync(fd, scratch, 0, HEADER_READ, 0));
    const size = bytes.length < HEADER_READ ? bytes.length : fs.fstatSync(fd).size;
    const read = parseHeader(bytes, size);
    if (typeof read !== 'number') return read;
    bytes = Buffer.allocUnsafe(read);
    return parseHeader(bytes.subarray(0, fs.readSync(fd, bytes, 0, read, 0)), size) as HeaderRead;
  } finally {
    fs.closeSync(fd);
  }
}

/**
 * Reads the header of the file at `path(i)` for each `i` of `positions`, giving each read to
 * `found(i, read)`. Headers in the page cache are read blocking,
 * several times faster than through libuv's threads, in slices between which other work runs.
 * Once a read is slow (the disk, a network share), the rest are read in parallel instead: a far
 * lower bar than the one for the store's other calls (see mayBlock), as reads that miss the cache
 * gain most from being parallel.
 */
export async function readHeadersIn(
  positions: readonly number[],
  path: (i: number) => string,
  found: (i: number, read: HeaderRead | undefined) => void,
): Promise<void> {
  let next = 0;
  let slice = performance.now();
  let inSlice = 0;
  let slowSlices = 0;
  while (next < positions.length) {
    const i = positions[next++] as number;
    found(i, readHeaderNow(path(i)));
    inSlice++;
    const elapsed = performance.now() - slice;
    if (elapsed > SLICE_MS) {
      // Two slow slices in a row: one may be a pause (a collection, the first reads compiling).
      slowSlices = elapsed / inSlice > SLOW_READ_MS ? slowSlices + 1 : 0;
      if (slowSlices === 2) break;
      await new Promise((resolve) => setImmediate(resolve));
      slice = performance.now();
      inSlice = 0;
    }
  }
  await mapLimited(positions.slice(next), 64, async (i) => {
    found(i, await readHeader(path(i)));
  });
}

/** Blocking header reads slower than this on average are not from the page cache: read the rest in parallel. */
const SLOW_READ_MS = 0.1;
/** At most this long blocking before letting other work run. */
const SLICE_MS = 4;

/** Why a header does not describe a whole entry for `key` in a file of `size` bytes, if it does not. */
export function problem(header: Header | string, key: string, size: number): string | undefined {
  if (typeof header === 'string') return header;
  if (header.meta.key !== key) return 'it holds another instance (a misplaced file)';
  if (size !== header.valueStart + header.meta.size)
    return `${size} bytes instead of ${header.valueStart + header.meta.size}`;
  return undefined;
}

/**
 * The header in the first bytes of an entry file of `size` bytes, or the number of bytes to read
 * when the header is longer than those.
 */
function parseHeader(bytes: Uint8Array, size: number): HeaderRead | number {
  const needed = headerLength(bytes);
  // A damaged length field must not make us allocate up to 4 GB: the header fits in the file.
  if (typeof needed === 'number' && needed > size) return { header: 'truncated in its header', size };
  if (typeof needed === 'number' && needed > bytes.length) return needed;
  return { header: decodeHeader(bytes), size };
}
