/**
 * Whether a path still names a file held open: the fs store's lock checks, before it writes into
 * or renames a lock file, that the file is still its own and not one made since at the same path.
 * @module
 */
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { rm } from 'node:fs/promises';
import { fstatFile, renameFile, statPath, together } from './fs-calls.js';

/**
 * The exact stats of the open file `fd` if `path` still names it: the same file (device and inode)
 * and not unlinked; `undefined` if not.
 */
export async function namedAs(fd: number, path: string): Promise<fs.BigIntStats | undefined> {
  const open = await fstatFile(fd, { bigint: true });
  const named = await statPath(path);
  return names(named, open) && open.nlink > 0n ? open : undefined;
}

/** Whether `path` names the file of exact stats `opened` (kept open, so that its inode is not reused). */
export async function isNamedBy(path: string, opened: fs.BigIntStats): Promise<boolean> {
  return names(await statPath(path), opened);
}

/**
 * Renames `path` to `target` if `path` names the file of exact stats `opened`; whether it did.
 * Both blocking where calls may block at all: an await between them lets this
 * thread's other runs (a clear, then a new lock at `path`) change what the rename moves, and a lock
 * file moved into `target` is a damaged entry.
 */
export function renameIfNamedBy(path: string, opened: fs.BigIntStats, target: string): Promise<boolean> {
  return together(
    () => {
      if (!names(fs.statSync(path, { bigint: true, throwIfNoEntry: false }), opened)) return false;
      fs.renameSync(path, target);
      return true;
    },
    async () => {
      if (!(await isNamedBy(path, opened))) return false;
      // Through libuv, others' calls come between any two: the file is moved to a name of this
      // call's own first, and checked there, so that a lock made at `path` meanwhile is never moved
      // into `target`. Such a lock is removed instead, as a stale one is: its holder then finds its
      // path gone, and writes its entry another way.
      const own = `${path}.${randomBytes(6).toString('hex')}.commit`;
      await renameFile(path, own);
      if (await isNamedBy(own, opened)) {
        await renameFile(own, target);
        return true;
      }
      await rm(own, { force: true });
      return false;
    },
  );
}

/** The exact stats of an open file. */
export function exactStats(fd: number): Promise<fs.BigIntStats> {
  return fstatFile(fd, { bigint: true });
}

/** Whether the stats of a path (`undefined`: no file there) are those of the file `opened`. */
function names(named: fs.BigIntStats | undefined, opened: fs.BigIntStats): boolean {
  return named !== undefined && sameFile(named, opened);
}

function sameFile(a: fs.BigIntStats, b: fs.BigIntStats): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}
