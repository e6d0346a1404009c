/**
 * The filesystem calls the fs store and its locks make, callback-style and promised: a cold run
 * makes thousands of them, and FileHandles cost more.
 * @module
 */
import * as fs from 'node:fs';
import { promisify } from 'node:util';

/** Opens a file, with `fs.open`'s string or numeric flags, and resolves to its descriptor. */
export const openFile = promisify(fs.open) as (path: string, flags: string | number) => Promise<number>;
/** Closes a file descriptor. */
export const closeFile = promisify(fs.close);
/** The `fs.Stats` of an open file; `{ bigint: true }` for exact ones (inode numbers can exceed 2^53). */
export const fstatFile = promisify(fs.fstat);
/** The `fs.Stats` of a path, following links; `{ bigint: true }` for exact ones. */
export const statFile = promisify(fs.stat);
/** Truncates an open file to a length. */
export const truncateFile = promisify(fs.ftruncate);
/** Renames a file, replacing any file at the target. */
export const renameFile = promisify(fs.rename);

/** Reads up to `buffer.length` bytes from `position` (the start by default), leaving the file position as it was. */
export function readAt(fd: number, buffer: Buffer, position = 0): Promise<number> {
  return new Promise((resolve, reject) =>
    fs.read(fd, buffer, 0, buffer.length, position, (error, count) => (error ? reject(error) : resolve(count))),
  );
}

/**
 * Writes every piece, in order, from `position` (the file position when not given); short writes
 * are continued. Writes at given positions leave the file position alone, so that two of them can
 * be under way at once on one file.
 */
export async function writeAll(fd: number, pieces: readonly Uint8Array[], position?: number): Promise<void> {
  const rest = pieces.filter((piece) => piece.length > 0);
  let at = position;
  while (rest.length > 0) {
    const written = await new Promise<number>((resolve, reject) => {
      const done = (error: NodeJS.ErrnoException | null, bytes: number) => (error ? reject(error) : resolve(bytes));
      if (at === undefined) fs.writev(fd, rest, done);
      else fs.writev(fd, rest, at, done);
    });
    if (at !== undefined) at += written;
    let skip = written;
    while (rest.length > 0 && skip >= (rest[0] as Uint8Array).length) skip -= (rest.shift() as Uint8Array).length;
    if (skip > 0) rest[0] = (rest[0] as Uint8Array).subarray(skip);
  }
}

/**
 * Whether metadata calls (`stat`, `fstat`) are made blocking: a few µs where the filesystem's
 * metadata is cached, much cheaper than a round trip through libuv's threads. {@link SLOW_CALLS}
 * blocking calls in a row that each take longer than {@link SLOW_CALL_MS} (a network filesystem
 * asking its server) switch this process to libuv for good; one slow call alone is more likely a
 * pause (a garbage collection) than the filesystem.
 */
export function metadataBlocks(): boolean {
  return blocking;
}

let blocking = true;
let slowInARow = 0;
const SLOW_CALL_MS = 1;
const SLOW_CALLS = 3;

/** Makes blocking metadata calls, timed for {@link metadataBlocks}; call only while it is true. */
export function timedBlocking<T>(calls: () => T): T {
  const start = performance.now();
  try {
    return calls();
  } finally {
    slowInARow = performance.now() - start > SLOW_CALL_MS ? slowInARow + 1 : 0;
    if (slowInARow === SLOW_CALLS) blocking = false;
  }
}

/** Whether an error says that a file or folder does not exist. */
export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}
