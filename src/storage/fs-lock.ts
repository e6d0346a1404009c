import * as fs from 'node:fs';
import { rm, unlink } from 'node:fs/promises';
import { closeFile, isMissing, openFile, renameFile, truncateFile, writeAll } from './fs-calls.js';
import { exactStats, isNamedBy, namedAs, renameIfNamedBy } from './fs-file-identity.js';
import { keepFresh, refreshed } from './fs-lock-heartbeat.js';
import { isOwn, isStale, ownerOf } from './fs-lock-owner.js';

/** Options of {@link LockFiles}. */
export interface LockOptions {
  /** A lock whose holder has not refreshed it for this long is taken over (holder on another host, say). */
  staleMs: number;
  /** How often holders refresh their locks' modification times. */
  heartbeatMs: number;
}

/**
 * How many lock files may stay open from taking the lock to committing its entry, in this process.
 * Kept open, a lock costs three calls fewer (see {@link LockFiles.commit}); past this many (a run
 * of thousands of async computations at once), a lock is closed once its owner is written.
 */
const MAX_KEPT_OPEN = 256;
let keptOpen = 0;

/**
 * Exclusive locks shared by every process on a cache, one file each: the lock on an entry is a
 * file created only if absent, naming its owner's pid and host. A waiter polls while a live holder
 * has it (woken at once by a release in its own process), and takes over a lock whose holder died
 * (same host, pid gone) or stopped refreshing it, so a killed process never blocks the cache.
 *
 * The holder may turn the lock file into the entry it guards: write the entry into it and rename
 * it into place ({@link LockFiles.release} is then a no-op). Storing an entry under its lock thus
 * creates and renames one file, as an atomic write without a lock does. The lock file is kept open
 * from creation to that write, within a limit on open files.
 */
export class LockFiles {
  readonly #options: LockOptions;
  /** What this object's lock files hold (see {@link ownerOf}). */
  readonly #owner = ownerOf();
  /** The lock files this object holds, each with its open descriptor where it is kept open. */
  readonly #held = new Map<string, number | undefined>();
  /** The lock files this object is creating. */
  readonly #taking = new Set<string>();

  constructor(options: LockOptions) {
    this.#options = options;
  }

  /** Takes the lock at `path`, waiting for its holder if it has one. */
  async acquire(path: string): Promise<void> {
    let wait = 2;
    for (;;) {
      const seen = releases;
      // Another run of this object holds it, or is taking it: wait for it even if its file is
      // gone (a cleared folder), so that one holder at most answers to each path here.
      const free = !this.#held.has(path) && !this.#taking.has(path);
      let fd: number | undefined;
      if (free) {
        this.#taking.add(path);
        try {
          fd = await create(path, this.#owner);
        } finally {
          this.#taking.delete(path);
        }
      }
      if (fd !== undefined) {
        // Held from now on, before any other wait: another run of this process must not find the
        // lock naming this process unheld, and so stale.
        keepFresh(path, this.#options.heartbeatMs);
        if (keptOpen < MAX_KEPT_OPEN) {
          keptOpen++;
          this.#held.set(path, fd);
        } else {
          this.#held.set(path, undefined);
          await closeFile(fd);
        }
        return;
      }
      if (free && (await isStale(path, this.#options.staleMs))) {
        // Move the stale lock aside atomically. Of several processes breaking it, a slower one may
        // move aside the new lock of the first instead: both then compute the entry, and the
        // first, no longer holding its path, commits through a temporary file (a duplicated
        // computation, never a damaged entry).
        const aside = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.stale`;
        await renameFile(path, aside).then(
          () => rm(aside, { force: true }),
          () => {},
        );
        continue;
      }
      await pause(path, wait, seen);
      wait = Math.min(wait * 2, 100);
    }
  }

  /** Whether this object holds the lock at `path`. */
  holds(path: string): boolean {
    return this.#held.has(path);
  }

  /**
   * Writes an entry into the held lock file at `path` with `write` (given the open file, it
   * resolves to the length it wrote) and renames the file to `target`, which releases the lock.
   * Resolves to `false`, having put nothing at `path` or `target`, when the file at `path` is no
   * longer this process's lock (taken over as stale by another process while this one's event loop
   * was blocked, say, or its folder cleared); the caller then writes the entry another way, and the
   * lock is no longer held.
   *
   * A lock file kept open is this process's lock while `path` still names the file it opened: a
   * lock taken over was moved aside first. Otherwise the file at `path` is opened and is this
   * process's lock while it names this process as its owner. Either way, `path` must still name
   * the file just before it is renamed.
   */
  async commit(path: string, write: (fd: number) => Promise<number>, target: string): Promise<boolean> {
    const kept = this.#unkeep(path);
    let fd: number;
    if (kept !== undefined) fd = kept;
    else {
      try {
        // No O_CREAT: a lock file that is gone must not be made again.
        fd = await openFile(path, fs.constants.O_RDWR);
      } catch (error) {
        if (!isMissing(error)) throw error;
        this.#forget(path);
        return false;
      }
    }
    /** The open lock file's identity, once it is known to be this process's lock. */
    let opened: fs.BigIntStats | undefined;
    try {
      // A kept file is this process's lock unless it was moved aside, which the check of its path
      // before the rename finds; written into meanwhile, it was written in vain, and harmlessly.
      opened = kept !== undefined || (await isOwn(fd, this.#owner)) ? await exactStats(fd) : undefined;
      if (opened) {
        const length = await write(fd);
        if (length < this.#owner.length) await truncateFile(fd, length);
        // A rename moves whatever the path names: the folder may have been cleared meanwhile and
        // the path taken by another run's lock. Looked at again just before (with the file still
        // open, so that its inode cannot be reused), that is left to the instant until the rename.
        if (await renameIfNamedBy(path, opened, target)) {
          this.#forget(path);
          wake(path);
          return true;
        }
      }
    } catch (error) {
      // Gone (a cleared folder): as a lock taken over. Otherwise half written (a full disk, say) or
      // not renamed: no lock any more, and no file left to take over later.
      if (opened && isMissing(error)) opened = undefined;
      else {
        if (opened && this.#forget(path) && (await isNamedBy(path, opened).catch(() => false))) {
          await unlink(path).catch(() => {});
          wake(path);
        }
        throw error;
      }
    } finally {
      await closeFile(fd);
    }
    // No longer this process's lock: never released, nor written into, by this object again.
    this.#forget(path);
    return false;
  }

  /** Releases the lock at `path` if this object still holds it and the file is still its own. */
  async release(path: string): Promise<void> {
    const kept = this.#unkeep(path);
    if (!this.#forget(path)) return;
    let own: boolean;
    try {
      const fd = kept ?? (await openFile(path, fs.constants.O_RDONLY));
      try {
        own = kept !== undefined ? (await namedAs(fd, path)) !== undefined : await isOwn(fd, this.#owner);
      } finally {
        await closeFile(fd);
      }
    } catch (error) {
      if (isMissing(error)) return;
      throw error;
    }
    if (own) {
      await unlink(path).catch((error: unknown) => {
        if (!isMissing(error)) throw error;
      });
      wake(path);
    }
  }

  /** The descriptor kept open for the lock at `path`, handed to the caller to close; the lock stays held. */
  #unkeep(path: string): number | undefined {
    const kept = this.#held.get(path);
    if (kept !== undefined) {
      this.#held.set(path, undefined);
      keptOpen--;
    }
    return kept;
  }

  /** Stops holding the lock at `path`; `false` if this object did not hold it (another may, now). */
  #forget(path: string): boolean {
    if (!this.#held.delete(path)) return false;
    const holders = (refreshed.get(path) ?? 1) - 1;
    if (holders > 0) refreshed.set(path, holders);
    else refreshed.delete(path);
    return true;
  }
}

/**
 * The waits of this process for the lock at each path, each ended early by {@link wake}: a lock
 * released here is taken at once by a run of this process waiting for it (two runs sharing an
 * instance, a run started again after a cancel), not at that run's next poll, up to 100 ms later.
 * Other processes poll.
 */
const waiting = new Map<string, Set<() => void>>();

/**
 * How many locks this process has released: a waiter that saw a lock held and finds this changed
 * before it starts waiting tries again at once, as the release it would wait for may be that one.
 */
let releases = 0;

/**
 * Waits `ms`, or less if a lock of this process at `path` is released meanwhile; not at all if any
 * was released since {@link releases} was `seen`.
 */
function pause(path: string, ms: number, seen: number): Promise<void> {
  if (releases !== seen) return Promise.resolve();
  let waits = waiting.get(path);
  if (!waits) {
    waits = new Set();
    waiting.set(path, waits);
  }
  const set = waits;
  return new Promise((resolve) => {
    const end = () => {
      clearTimeout(timer);
      set.delete(end);
      if (set.size === 0 && waiting.get(path) === set) waiting.delete(path);
      resolve();
    };
    const timer = setTimeout(end, ms);
    set.add(end);
  });
}

/** Ends the waits for the lock at `path`: a lock of this process there was just released. */
function wake(path: string): void {
  releases++;
  const waits = waiting.get(path);
  if (waits) for (const end of [...waits]) end();
}

/**
 * Creates the lock file naming its owner and gives it open for reading and writing; `undefined`
 * when it exists already.
 */
async function create(path: string, owner: Buffer): Promise<number | undefined> {
  let fd: number;
  try {
    fd = await openFile(path, fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw error;
  }
  try {
    await writeAll(fd, [owner], 0);
  } catch (error) {
    // No lock left that names nobody: others would wait for it to grow stale.
    await closeFile(fd).catch(() => {});
    await unlink(path).catch(() => {});
    throw error;
  }
  return fd;
}
