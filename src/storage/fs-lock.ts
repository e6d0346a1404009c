import { lstat, lutimes, open, readFile, readlink, rename, rm, symlink } from 'node:fs/promises';
import { hostname } from 'node:os';

/** Options of {@link lockFile}. */
export interface LockOptions {
  /** A lock whose holder has not refreshed it for this long is taken over (holder on another host, say). */
  staleMs: number;
  /** How often the holder refreshes its lock's modification time. */
  heartbeatMs: number;
}

const host = hostname();
const owner = JSON.stringify({ pid: process.pid, host });
// A symbolic link whose target is the owner is made in one atomic system call; where links need
// privileges (Windows without developer mode), a file created with O_EXCL holds the owner instead.
let useLinks = true;

/**
 * Takes an exclusive lock shared by every process on this cache: a symbolic link (or, failing
 * that, a file) at `path` naming the owner's pid and host. It waits while another live holder has
 * it, and takes over a lock whose holder died (same host, pid gone) or stopped refreshing it, so a
 * killed process never blocks the cache. Resolves to the function that releases it.
 */
export async function lockFile(path: string, options: LockOptions): Promise<() => Promise<void>> {
  let wait = 2;
  for (;;) {
    if (await create(path)) {
      const heartbeat = setInterval(() => {
        const now = new Date();
        lutimes(path, now, now).catch(() => {});
      }, options.heartbeatMs);
      heartbeat.unref();
      return async () => {
        clearInterval(heartbeat);
        await rm(path, { force: true });
      };
    }
    if (await isStale(path, options.staleMs)) {
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

/** Creates the lock; `false` when it exists already. */
async function create(path: string): Promise<boolean> {
  try {
    if (useLinks) {
      try {
        await symlink(owner, path);
        return true;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== 'EPERM' && code !== 'ENOSYS' && code !== 'EOPNOTSUPP') throw error;
        useLinks = false;
      }
    }
    const file = await open(path, 'wx');
    try {
      await file.writeFile(owner);
    } finally {
      await file.close();
    }
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
    text = info.isSymbolicLink() ? await readlink(path) : await readFile(path, 'utf8');
  } catch {
    return false; // released meanwhile: try again to take it
  }
  try {
    const holder = JSON.parse(text) as { pid?: number; host?: string };
    if (holder.host === host && typeof holder.pid === 'number' && !isAlive(holder.pid)) return true;
  } catch {
    // A file half-written by a holder that may have died right after creating it: age decides.
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
