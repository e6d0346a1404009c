import * as fs from 'node:fs';
import { lstat, readFile, readlink, rename, rm, unlink, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';
import { promisify } from 'node:util';

/** Options of {@link LockFiles}. */
export interface LockOptions {
  /** A lock whose holder has not refreshed it for this long is taken over (holder on another host, say). */
  staleMs: number;
  /** How often holders refresh their locks' modification times. */
  heartbeatMs: number;
}

const host = hostname();
const owner = JSON.stringify({ pid: process.pid, host });

/** The lock files held in this process, refreshed together by one timer while there are any. */
const refreshed = new Set<string>();
let heartbeat: ReturnType<typeof setInterval> | undefined;
let heartbeatMs = Number.POSITIVE_INFINITY;

function keepFresh(path: string, every: number): void {
  refreshed.add(path);
  if (heartbeat && every >= heartbeatMs) return;
  if (heartbeat) clearInterval(heartbeat);
  heartbeatMs = every;
  heartbeat = setInterval(() => {
    const now = new Date();
    for (const held of refreshed) utimes(held, now, now).catch(() => {});
    if (refreshed.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = undefined;
      heartbeatMs = Number.POSITIVE_INFINITY;
    }
  }, every);
  heartbeat.unref();
}

/**
 * Exclusive locks shared by every process on a cache, one file each: the lock on an entry is a
 * file created only if absent, naming its owner's pid and host. A waiter polls while a live holder
 * has it, and takes over a lock whose holder died (same host, pid gone) or stopped refreshing it,
 * so a killed process never blocks the cache.
 *
 * The holder may turn the lock file into the entry it guards: write the entry into it and rename
 * it into place ({@link LockFiles.release} is then a no-op). Storing an entry under its lock thus
 * creates and renames one file, as an atomic write without a lock does.
 */
export class LockFiles {
  readonly #options: LockOptions;
  /** The lock files this object holds. */
  readonly #held = new Set<string>();

  constructor(options: LockOptions) {
    this.#options = options;
  }

  /** Takes the lock at `path`, waiting for its holder if it has one. */
  async acquire(path: string): Promise<void> {
    let wait = 2;
    for (;;) {
      if (await create(path)) {
        this.#held.add(path);
        keepFresh(path, this.#options.heartbeatMs);
        return;
      }
      if (await isStale(path, this.#options.staleMs)) {
        // Move the stale lock aside atomically: of several processes breaking it, one wins.
        const aside = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.stale`;
        await rename(path, aside).then(
          () => rm(aside, { force: true }),
          () => {},
        );
        continue;
      }
      await new Promise((resolve) => setTimeout(resolve, wait));
      wait = Math.min(wait * 2, 100);
    }
  }

  /** Whether this object holds the lock at `path`. */
  holds(path: string): boolean {
    return this.#held.has(path);
  }

  /**
   * Writes `pieces` into the held lock file at `path` and renames it to `target`, which releases
   * the lock. Resolves to `false`, having written nothing, when the lock file is gone (taken over
   * as stale); the caller then writes the entry another way.
   */
  async commit(path: string, pieces: readonly Uint8Array[], target: string): Promise<boolean> {
    let fd: number;
    try {
      // No O_CREAT: a lock file that is gone must not be made again.
      fd = await openFile(path, fs.constants.O_WRONLY | fs.constants.O_TRUNC);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw error;
    }
    try {
      await writeAll(fd, pieces);
    } finally {
      await closeFile(fd);
    }
    await rename(path, target);
    this.#forget(path);
    return true;
  }

  /** Releases the lock at `path` if this object still holds it. */
  async release(path: string): Promise<void> {
    if (!this.#forget(path)) return;
    await unlink(path).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'ENOENT') throw error;
    });
  }

  #forget(path: string): boolean {
    refreshed.delete(path);
    return this.#held.delete(path);
  }
}

/** Creates the lock file naming its owner; `false` when it exists already. */
async function create(path: string): Promise<boolean> {
  try {
    await writeFileFlagged(path, owner, { flag: 'wx' });
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  let text: string;
  let modified: number;
  try {
    const info = await lstat(path);
    modified = info.mtimeMs;
    // Earlier versions made locks as symbolic links whose target names the owner.
    text = info.isSymbolicLink() ? await readlink(path) : await readFile(path, 'utf8');
  } catch {
    return false; // released meanwhile: try again to take it
  }
  try {
    const holder = JSON.parse(text) as { pid?: number; host?: string };
    if (holder.host === host && typeof holder.pid === 'number' && !isAlive(holder.pid)) return true;
  } catch {
    // Created but not yet written, or being turned into its entry: its age decides.
  }
  return Date.now() - modified > staleMs;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

// Callback-style calls: a cold run takes thousands of locks, and FileHandles cost more.
const writeFileFlagged = promisify(fs.writeFile);
const openFile = (path: string, flags: number) =>
  new Promise<number>((resolve, reject) => fs.open(path, flags, (error, fd) => (error ? reject(error) : resolve(fd))));
const closeFile = (fd: number) =>
  new Promise<void>((resolve, reject) => fs.close(fd, (error) => (error ? reject(error) : resolve())));

/** Writes every piece, in order, from the start of the file; short writes are continued. */
export async function writeAll(fd: number, pieces: readonly Uint8Array[]): Promise<void> {
  const rest = pieces.filter((piece) => piece.length > 0);
  while (rest.length > 0) {
    const written = await new Promise<number>((resolve, reject) =>
      fs.writev(fd, rest, (error, bytes) => (error ? reject(error) : resolve(bytes))),
    );
    let skip = written;
    while (rest.length > 0 && skip >= (rest[0] as Uint8Array).length) skip -= (rest.shift() as Uint8Array).length;
    if (skip > 0) rest[0] = (rest[0] as Uint8Array).subarray(skip);
  }
}
