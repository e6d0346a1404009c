import { open, readFile, rename, rm, stat, utimes } from 'node:fs/promises';
import { hostname } from 'node:os';

/** Options of {@link lockFile}. */
export interface LockOptions {
  /** A lock whose holder has not refreshed it for this long is taken over (holder on another host, say). */
  staleMs: number;
  /** How often the holder refreshes its lock file's modification time. */
  heartbeatMs: number;
}

const host = hostname();

/**
 * Takes an exclusive lock shared by every process on this cache: the lock is a file created with
 * `O_EXCL`, holding the owner's pid and host. It waits while another live holder has it, and
 * takes over a lock whose holder died (same host, pid gone) or stopped refreshing it, so a killed
 * process never blocks the cache. Resolves to the function that releases it.
 */
export async function lockFile(path: string, options: LockOptions): Promise<() => Promise<void>> {
  let wait = 5;
  for (;;) {
    try {
      const file = await open(path, 'wx');
      try {
        await file.writeFile(JSON.stringify({ pid: process.pid, host }));
      } finally {
        await file.close();
      }
      const heartbeat = setInterval(() => {
        const now = new Date();
        utimes(path, now, now).catch(() => {});
      }, options.heartbeatMs);
      heartbeat.unref();
      return async () => {
        clearInterval(heartbeat);
        await rm(path, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
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

async function isStale(path: string, staleMs: number): Promise<boolean> {
  let text: string;
  let modified: number;
  try {
    [text, modified] = await Promise.all([readFile(path, 'utf8'), stat(path).then((info) => info.mtimeMs)]);
  } catch {
    return false; // released meanwhile: try again to take it
  }
  try {
    const owner = JSON.parse(text) as { pid?: number; host?: string };
    if (owner.host === host && typeof owner.pid === 'number' && !isAlive(owner.pid)) return true;
  } catch {
    // Half-written by a holder that may have died right after creating it: the age decides.
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
