/**
 * An index of a task folder's entry headers, so that a warm run plans from one file per folder
 * instead of opening one file per instance. It is trusted only while the folder is unchanged:
 * every write, replacement and removal of an entry creates, renames or unlinks a file in the
 * folder, which moves the folder's change and modification times, and the index records both (with
 * the folder's device and inode) as they were when it was built. It is what git's index does for a
 * working tree's files, with the same care for changes in the same clock tick (see
 * {@link HeaderIndexes.record}).
 *
 * Kept only where folder times are exact and seen at once by every process: Linux filesystems on
 * local disks or in memory. A network filesystem's client caches a folder's attributes for
 * seconds, so a change made on another machine could go unseen there; elsewhere (macOS, Windows,
 * FUSE, NFS, SMB) every header is read, as before.
 * @module
 */
import { randomBytes } from 'node:crypto';
import type { BigIntStats } from 'node:fs';
import { readFile, rm, statfs } from 'node:fs/promises';
import { sep } from 'node:path';
import { crc32 } from 'node:zlib';
import { closeFile, fstatFile, openFile, renameFile, statPath, writeAll } from './fs-calls.js';
import type { EntryMeta } from './types.js';

/** What a valid index says of a folder: the metadata of its entries, and the entries it did not read. */
export interface IndexedHeaders {
  /** Each indexed entry's metadata, by key. */
  readonly metas: ReadonlyMap<string, EntryMeta>;
  /** The file names of entries present in the folder whose headers the index does not hold. */
  readonly unread: ReadonlySet<string>;
}

/**
 * An index being built: call {@link IndexRecording.finish} once the folder's headers are read, or
 * {@link IndexRecording.abandon}.
 */
export interface IndexRecording {
  /**
   * Writes the index of `metas` (the metadata JSON of the entries read, each checked) and
   * `unread` (the other entries listed), if the folder did not change since the recording began;
   * else, or when writing fails, writes nothing. Never rejects: an index only spares reads.
   */
  finish(metas: readonly string[], unread: readonly string[]): Promise<void>;
  /** Writes no index. Never rejects. */
  abandon(): Promise<void>;
}

/** The index files of one fs store's task folders, beside them in the cache root. */
export class HeaderIndexes {
  readonly #root: string;
  /** Per folder path, whether its filesystem keeps an index (asked once). */
  readonly #kept = new Map<string, Promise<boolean>>();

  /** @param root - the cache root, which holds every task's folder. */
  constructor(root: string) {
    this.#root = root;
  }

  /** The index file of task folder `folder`: `.<folder>.index`, a name no task folder has. */
  path(folder: string): string {
    return `${this.#root}${sep}.${folder}.index`;
  }

  /** Whether `name`, in the cache root, is the index of `folder` or one being written. */
  isIndexOf(folder: string, name: string): boolean {
    const index = `.${folder}.index`;
    return name === index || (name.length === index.length + TEMPORARY.length && temporary(index).test(name));
  }

  /** What the index of `folder` (at `dir`) says, if it has one and the folder is unchanged since. */
  async read(folder: string, dir: string): Promise<IndexedHeaders | undefined> {
    if (!(await this.#keeps(dir))) return undefined;
    const now = await statPath(dir);
    let text: Buffer;
    try {
      text = await readFile(this.path(folder));
    } catch {
      return undefined;
    }
    // The folder's state first: an index of another is dropped without its checksum or its JSON.
    const head = now && `${HEAD} ${stampOf(now)} `;
    if (!head || text.toString('latin1', 0, head.length) !== head) return undefined;
    const newline = text.indexOf(10, head.length);
    const body = text.subarray(newline + 1);
    if (newline < 0 || text.toString('latin1', head.length, newline) !== crc32(body).toString(16)) return undefined;
    let index: IndexBody;
    try {
      index = JSON.parse(body.toString()) as IndexBody;
    } catch {
      return undefined;
    }
    if (!Array.isArray(index?.metas) || !Array.isArray(index.unread)) return undefined;
    const metas = new Map<string, EntryMeta>();
    for (const meta of index.metas) metas.set(meta.key, meta);
    return { metas, unread: new Set(index.unread) };
  }

  /**
   * Starts building the index of `folder` (at `dir`), to be given its headers read from now on;
   * `undefined` where no index is kept, or the folder is missing or changed too recently.
   *
   * A change in the same clock tick as the last one may leave the folder's times as they were. So
   * the file that will hold the index is made first, and its time taken as the filesystem's now:
   * a folder last changed before it, strictly, shows any later change in its times.
   */
  async record(folder: string, dir: string): Promise<IndexRecording | undefined> {
    if (!(await this.#keeps(dir))) return undefined;
    const index = this.path(folder);
    const written = `${index}.${randomBytes(6).toString('hex')}.tmp`;
    let fd: number;
    try {
      fd = await openFile(written, 'wx');
    } catch {
      return undefined;
    }
    let open = true;
    let ended = false;
    // Once only: the descriptor's number may be another file's once closed.
    const close = async () => {
      if (open) {
        open = false;
        await closeFile(fd);
      }
    };
    const discard = async () => {
      if (ended) return;
      ended = true;
      await close().catch(() => {});
      await rm(written, { force: true }).catch(() => {});
    };
    try {
      const now = (await fstatFile(fd, { bigint: true })).mtimeNs;
      const before = await statPath(dir);
      if (!before || before.mtimeNs >= now || before.ctimeNs >= now) {
        await discard();
        return undefined;
      }
      return {
        abandon: discard,
        async finish(metas, unread) {
          try {
            const after = await statPath(dir);
            if (!after || stampOf(after) !== stampOf(before)) return await discard();
            // The headers' own JSON, laid out as an IndexBody: not each metadata stringified again.
            const json = Buffer.from(`{"metas":[${metas.join(',')}],"unread":${JSON.stringify(unread)}}`);
            await writeAll(fd, [Buffer.from(`${HEAD} ${stampOf(before)} ${crc32(json).toString(16)}\n`), json]);
            await close();
            await renameFile(written, index);
            ended = true;
          } catch {
            await discard();
          }
        },
      };
    } catch {
      await discard();
      return undefined;
    }
  }

  /** Whether the filesystem holding `dir` is one where an index is kept. */
  #keeps(dir: string): Promise<boolean> {
    let keeps = this.#kept.get(dir);
    if (!keeps) {
      keeps =
        process.platform === 'linux'
          ? statfs(dir).then(
              ({ type }) => LOCAL.has(type >>> 0),
              () => false,
            )
          : Promise.resolve(false);
      // A missing folder is asked again once made.
      keeps.then((yes) => yes || this.#kept.delete(dir));
      this.#kept.set(dir, keeps);
    }
    return keeps;
  }
}

/**
 * An index file's first line is `HEAD`, the folder's state when the index was made ({@link stampOf})
 * and the CRC-32 of the rest in hex, separated by spaces; the rest is this, as JSON.
 */
interface IndexBody {
  readonly metas: readonly EntryMeta[];
  readonly unread: readonly string[];
}

const HEAD = 'checkpoint-tool header index 1';
/** `.<12 hex>.tmp`: the end of an index file's name while it is written. */
const TEMPORARY = '.000000000000.tmp';

function temporary(index: string): RegExp {
  return new RegExp(`^${index.replace(/[.]/g, '\\.')}\\.[0-9a-f]{12}\\.tmp$`);
}

/** A folder's device, inode, change and modification times, as one string. */
function stampOf(stats: BigIntStats): string {
  return `${stats.dev}:${stats.ino}:${stats.ctimeNs}:${stats.mtimeNs}`;
}

/**
 * Linux filesystems (`statfs`'s type) that keep exact folder times, seen at once by every process
 * on the machine: ext2/3/4, XFS, Btrfs, ZFS, F2FS, bcachefs, tmpfs, ramfs and overlayfs (containers).
 */
const LOCAL = new Set([
  0xef53, 0x58465342, 0x9123683e, 0x2fc12fc1, 0xf2f52010, 0xca451a4e, 0x01021994, 0x858458f6, 0x794c7630,
]);
