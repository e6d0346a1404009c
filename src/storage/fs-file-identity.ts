/**
 * Whether a path still names a file held open: the fs store's lock checks, before it writes into
 * or renames a lock file, that the file is still its own and not one made since at the same path.
 * @module
 */
import type * as fs from 'node:fs';
import { fstatFile, statPath } from './fs-calls.js';

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

/** The exact stats of an open file. */
export function exactStats(fd: number): Promise<fs.BigIntStats> {
  return fstatFile(fd, { bigint: true });
}

function sameFile(a: fs.BigIntStats, b: fs.BigIntStats): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}
