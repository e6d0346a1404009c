/**
 * Whether a path still names a file held open: the fs store's lock checks, before it writes into
 * or renames a lock file, that the file is still its own and not one made since at the same path.
 * @module
 */
import * as fs from 'node:fs';
import { fstatFile, renameFile, statPath, together } from './fs-calls.js';

/**
 * The exact stats of the open file `fd` if `path` still names it: the same file (device and inode)
 * and not unlinked; `undefined` if not.
 */
export async function namedAs(fd: number, path: string): Promise<fs.BigIntStats | undefined> {
  const open = await fstatFile(fd, { bigint: true });
  const named = await statPath(path);
  return named !== undefined && sameFile(named, open) && open.nlink > 0n ? open : undefined;
}

/** Whether `path` names the file of exact stats `opened` (kept open, so that its inode is not reused). */
export async function isNamedBy(path: string, opened: fs.BigIntStats): Promise<boolean> {
  const named = await statPath(path);
  return named !== undefined && sameFile(named, opened);
}

/**
 * Renames `path` to `target` if `path` names the file of exact stats `opened`; whether that file
 * is at `target` now. Both blocking where calls may block at all: an await between them lets this
 * thread's other runs (a clear, then a new lock at `path`) change what the rename moves, and a lock
 * file moved into `target` is a damaged entry.
 */
export function renameIfNamedBy(path: string, opened: fs.BigIntStats, target: string): Promise<boolean> {
  return together(
    () => {
      const named = fs.statSync(path, { bigint: true, throwIfNoEntry: false });
      if (named === undefined || !sameFile(named, opened)) return false;
      fs.renameSync(path, target);
      return true;
    },
    async () => {
      if (!(await isNamedBy(path, opened))) return false;
      await renameFile(path, target);
      // Through libuv, others' calls come between these two: had `path` named another lock by the
      // rename, that lock is at `target` now, where the caller's write through a file of its own
      // replaces it.
      return isNamedBy(target, opened);
    },
  );
}

/** The exact stats of an open file. */
export function exactStats(fd: number): Promise<fs.BigIntStats> {
  return fstatFile(fd, { bigint: true });
}

function sameFile(a: fs.BigIntStats, b: fs.BigIntStats): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}
