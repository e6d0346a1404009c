/**
 * The filesystem calls the fs store and its locks make, each promised: a cold run makes thousands
 * of them. Small ones are made blocking while that is cheap (see {@link mayBlock}), else
 * callback-style through libuv (FileHandles cost more).
 * @module
 */
import * as fs from 'node:fs';
import { sep } from 'node:path';
import { promisify } from 'node:util';
import { piecesLength } from './pieces.js';

/**
 * Whether calls are made blocking: a few µs each where the filesystem's data and metadata are
 * cached (the page cache, tmpfs), where a round trip through libuv's threads costs 10 µs or more
 * of this thread's time and the rest of a loop turn. Blocking calls are bounded twice: within one
 * turn of the event loop they run for at most {@link SLICE_MS} (later calls of that turn go through
 * libuv, and so let timers and I/O run), and {@link SLOW_CALLS} blocking calls in a row that each
 * take longer than {@link SLOW_CALL_MS} (a disk under load, a network filesystem) switch this
 * process to libuv, for {@link RETRY_MS}; one slow call alone is more likely a pause (a garbage
 * collection) than the filesystem. Only calls on at most {@link SMALL_IO} bytes block.
 */
export function mayBlock(): boolean {
  if (!blocking && !retried()) return false;
  if (sliceStart < 0) {
    sliceStart = performance.now();
    setImmediate(endSlice).unref();
    return true;
  }
  return performance.now() - sliceStart < SLICE_MS;
}

let blocking = true;
let slowInARow = 0;
/** When the last switch to libuv was made. */
let switchedAt = 0;
/** When this turn's first blocking call was made; -1 when none was. */
let sliceStart = -1;
const SLOW_CALL_MS = 1;
const SLOW_CALLS = 3;
const SLICE_MS = 4;
/**
 * How long after a switch to libuv calls are tried blocking again. Not for good: the calls that
 * made the switch may have been slow because other threads or processes had the cores for a while
 * (a worker pool's busiest moments), not because of the filesystem, and a long-lived process (a
 * notebook's, a server's) would pay for that moment from then on. On a filesystem that is slow
 * for good, trying again costs three slow calls a minute.
 */
const RETRY_MS = 60_000;
/** The most bytes a blocking read or write moves. */
const SMALL_IO = 64 * 1024;

function endSlice(): void {
  sliceStart = -1;
}

/** Whether calls are blocking again, {@link RETRY_MS} after the switch to libuv. */
function retried(): boolean {
  if (performance.now() - switchedAt < RETRY_MS) return false;
  blocking = true;
  slowInARow = 0;
  return true;
}

/** Makes blocking calls, timed for {@link mayBlock}; call only once it said yes. */
export function timedBlocking<T>(calls: () => T): T {
  const start = performance.now();
  try {
    return calls();
  } finally {
    slowInARow = performance.now() - start > SLOW_CALL_MS ? slowInARow + 1 : 0;
    if (slowInARow === SLOW_CALLS) {
      blocking = false;
      switchedAt = performance.now();
    }
  }
}

/**
 * Blocking `calls` while this process makes blocking calls at all, whatever this turn's budget,
 * else `later`, both as a promise: for a check and the call that depends on it (a path's identity,
 * then its rename), which nothing of this thread may come between.
 */
export function together<T>(calls: () => T, later: () => Promise<T>): Promise<T> {
  return blocking ? blockingNow(calls) : later();
}

/** Blocking `calls` when {@link mayBlock} says so and `small`, else `later`, both as a promise. */
function either<T>(small: boolean, calls: () => T, later: () => Promise<T>): Promise<T> {
  return small && mayBlock() ? blockingNow(calls) : later();
}

/** Makes blocking `calls`, timed, and gives their outcome as a promise: a throw becomes a rejection. */
function blockingNow<T>(calls: () => T): Promise<T> {
  try {
    return Promise.resolve(timedBlocking(calls));
  } catch (error) {
    return Promise.reject(error);
  }
}

const open = promisify(fs.open) as (path: string, flags: string | number) => Promise<number>;
const close = promisify(fs.close);
const fstat = promisify(fs.fstat);
const stat = promisify(fs.stat);
const ftruncate = promisify(fs.ftruncate);
const rename = promisify(fs.rename);

/** Opens a file, with `fs.open`'s string or numeric flags, and resolves to its descriptor. */
export function openFile(path: string, flags: string | number): Promise<number> {
  return either(
    true,
    () => fs.openSync(path, flags),
    () => open(path, flags),
  );
}

/**
 * Calls `read` with the file at `path` open for reading, closed once it settles; `undefined` when
 * there is no such file.
 */
export async function readingFile<T>(path: string, read: (fd: number) => Promise<T>): Promise<T | undefined> {
  let fd: number;
  try {
    fd = await openFile(path, 'r');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
  try {
    return await read(fd);
  } finally {
    await closeFile(fd);
  }
}

/** Closes a file descriptor. */
export function closeFile(fd: number): Promise<void> {
  return either(
    true,
    () => fs.closeSync(fd),
    () => close(fd),
  );
}

/** The `fs.Stats` of an open file. */
export function fstatFile(fd: number): Promise<fs.Stats>;
/** The exact `fs.BigIntStats` of an open file (inode numbers can exceed 2^53). */
export function fstatFile(fd: number, options: { bigint: true }): Promise<fs.BigIntStats>;
export function fstatFile(fd: number, options?: { bigint: true }): Promise<fs.Stats | fs.BigIntStats> {
  return either(
    true,
    () => fs.fstatSync(fd, options),
    () => fstat(fd, options),
  );
}

/** The exact `fs.BigIntStats` of a path, following links; `undefined` when there is none. */
export function statPath(path: string): Promise<fs.BigIntStats | undefined> {
  return either(
    true,
    () => fs.statSync(path, { bigint: true, throwIfNoEntry: false }),
    () =>
      stat(path, { bigint: true }).catch((error: unknown) => {
        if (isMissing(error)) return undefined;
        throw error;
      }),
  );
}

/** Truncates an open file to a length. */
export function truncateFile(fd: number, length: number): Promise<void> {
  return either(
    true,
    () => fs.ftruncateSync(fd, length),
    () => ftruncate(fd, length),
  );
}

/** Renames a file, replacing any file at the target. */
export function renameFile(from: string, to: string): Promise<void> {
  return either(
    true,
    () => fs.renameSync(from, to),
    () => rename(from, to),
  );
}

/** Reads up to `buffer.length` bytes from `position` (the start by default), leaving the file position as it was. */
export function readAt(fd: number, buffer: Buffer, position = 0): Promise<number> {
  return either(
    buffer.length <= SMALL_IO,
    () => fs.readSync(fd, buffer, 0, buffer.length, position),
    () =>
      new Promise((resolve, reject) =>
        fs.read(fd, buffer, 0, buffer.length, position, (error, count) => (error ? reject(error) : resolve(count))),
      ),
  );
}

/**
 * Writes every piece, in order, from `position` (the file position when not given); short writes
 * are continued. Writes at given positions leave the file position alone, so that two of them can
 * be under way at once on one file.
 */
export async function writeAll(fd: number, pieces: readonly Uint8Array[], position?: number): Promise<void> {
  const rest = pieces.filter((piece) => piece.length > 0);
  const small = piecesLength(rest) <= SMALL_IO;
  let at = position;
  while (rest.length > 0) {
    const written = await either(
      small,
      () => (at === undefined ? fs.writevSync(fd, rest) : fs.writevSync(fd, rest, at)),
      () =>
        new Promise<number>((resolve, reject) => {
          const done = (error: NodeJS.ErrnoException | null, bytes: number) => (error ? reject(error) : resolve(bytes));
          if (at === undefined) fs.writev(fd, rest, done);
          else fs.writev(fd, rest, at, done);
        }),
    );
    if (at !== undefined) at += written;
    let skip = written;
    while (rest.length > 0 && skip >= (rest[0] as Uint8Array).length) skip -= (rest.shift() as Uint8Array).length;
    if (skip > 0) rest[0] = (rest[0] as Uint8Array).subarray(skip);
  }
}

/** Whether an error says that a file or folder does not exist. */
export function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}

/**
 * The path of `name` in the directory `dir`, where `dir` is resolved (as `resolve` gives) and `name`
 * a plain name (a task folder, an entry or index file: no separator, never `.` or `..`): what
 * `join` gives, without the normalizing that allocates several strings for each of a warm run's
 * thousands of paths.
 */
export function inDir(dir: string, name: string): string {
  return `${dir}${sep}${name}`;
}
