/**
 * The heartbeat of the fs store's locks: one timer per process refreshes the modification times
 * of every lock file held here, so that other processes never find a live holder's lock stale.
 * @module
 */
import { utimes } from 'node:fs/promises';

/**
 * The lock files held in this process, refreshed together by one timer while there are any; with
 * how many `LockFiles` objects hold each (after a clear, one may hold a path whose old file another
 * still thinks it holds).
 */
export const refreshed = new Map<string, number>();
let heartbeat: ReturnType<typeof setInterval> | undefined;
let heartbeatMs = Number.POSITIVE_INFINITY;

/**
 * Counts one more holder of the lock file at `path` in {@link refreshed}, and refreshes every held
 * lock at least `every` milliseconds from now on, while any is held.
 */
export function keepFresh(path: string, every: number): void {
  refreshed.set(path, (refreshed.get(path) ?? 0) + 1);
  if (heartbeat && every >= heartbeatMs) return;
  if (heartbeat) clearInterval(heartbeat);
  heartbeatMs = every;
  heartbeat = setInterval(() => {
    const now = new Date();
    for (const held of refreshed.keys()) utimes(held, now, now).catch(() => {});
    if (refreshed.size === 0 && heartbeat) {
      clearInterval(heartbeat);
      heartbeat = undefined;
      heartbeatMs = Number.POSITIVE_INFINITY;
    }
  }, every);
  heartbeat.unref();
}
