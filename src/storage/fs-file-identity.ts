/**
 * Whether a path still names a file held open: the fs store's lock checks, before it writes into
 * or renames a lock file, that the file is still its own and not one made since at the same path.
 * @module
 */
import * as fs from 'node:fs';
import { fstatFile, isMissing, metadataBlocks, statFile, timedBlocking } from './fs-calls.js';

/**
 * The exact stats of the open file `fd` if `path` still names it: the same file (device and inode)
 * and not unlinked; `undefined` if not.
 */
export async function namedAs(fd: number, path: string): Promise<fs.BigIntStats | undefined> {
  let open: fs.BigIntStats;
  let named: fs.BigIntStats | undefined;
  if (metadataBlocks()) {
    // Two stats of a file just written: cheaper blocking than through libuv, where metadata is cached.
    [open, named] = timedBlocking(() => [
      fs.fstatSync(fd, { bigint: true }),
      fs.statSync(path, { bigint: true, throwIfNoEntry: false }),
    ]);
  } else {
    open = await fstatFile(fd, { bigint: true });
    named = await exactPathStats(path);
  }
  return named !== undefined && sameFile(named, open) && open.nlink > 0n ? open : undefined;
}

/** Whether `path` names the file of exact stats `opened` (kept open, so that its inode is not reused). */
export async function isNamedBy(path: string, opened: fs.BigIntStats): Promise<boolean> {
  const named = metadataBlocks()
    ? timedBlocking(() => fs.statSync(path, { bigint: true, throwIfNoEntry: false }))
    : await exactPathStats(path);
  return named !== undefined && sameFile(named, opened);
}

/** The exact stats of an open file. */
export async function exactStats(fd: number): Promise<fs.BigIntStats> {
  return metadataBlocks()
    ? timedBlocking(() => fs.fstatSync(fd, { bigint: true }))
    : await fstatFile(fd, { bigint: true });
}

/** The exact stats of the file at `path`, `undefined` when there is none. */
function exactPathStats(path: string): Promise<fs.BigIntStats | undefined> {
  return statFile(path, { bigint: true }).catch((error: unknown) => {
    if (isMissing(error)) return undefined;
    throw error;
  });
}

function sameFile(a: fs.BigIntStats, b: fs.BigIntStats): boolean {
  return a.ino === b.ino && a.dev === b.dev;
}
