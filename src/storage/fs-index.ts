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
import { type BigIntStats, rmSync } from 'node:fs';
import { readdir, rm, statfs } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import {
  closeFile,
  fstatFile,
  inDir,
  openFile,
  readAt,
  readingFile,
  renameFile,
  statPath,
  writeAll,
} from './fs-calls.js';
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
   * `unread()` (the other entries listed), soon after, unless the folder has changed since the
   * recording began; a write that fails writes nothing. This store's next read or recording of
   * the folder waits for it.
   */
  finish(metas: readonly string[], unread: () => string[]): void;
  /** Writes no index, unless finish was called. Never rejects. */
  abandon(): Promise<void>;
}

/** The index files of one fs store's task folders, beside them in the cache root. */
export class HeaderIndexes {
  readonly #root: string;
  /** Per folder path, whether its filesystem keeps an index (asked once). */
  readonly #kept = new Map<string, Promise<boolean>>();
  /** Per folder, the index being written, which this store's next read of it waits for. */
  readonly #writing = new Map<string, Promise<void>>();

  /** @param root - the cache root, which holds every task's folder. */
  constructor(root: string) {
    this.#root = root;
  }

  /** The index file of task folder `folder`: `.<folder>.index`, a name no task folder has. */
  path(folder: string): string {
    return inDir(this.#root, indexName(folder));
  }

  /** Whether `name`, in the cache root, is the index of `folder` or one being written. */
  isIndexOf(folder: string, name: string): boolean {
    const index = indexName(folder);
    return name === index || (name.length === index.length + TEMPORARY.length && temporary(index).test(name));
  }

  /** What the index of `folder` (at `dir`) says, if it has one and the folder is unchanged since. */
  async read(folder: string, dir: string): Promise<IndexedHeaders | undefined> {
    if (!(await this.#keeps(dir))) return undefined;
    await this.#writing.get(folder);
    const now = await statPath(dir);
    if (!now) return undefined;
    let text: Buffer | undefined;
    try {
      // The first line alone, first: an index of the folder as it was is dropped unread.
      text = await readIf(this.path(folder), `${HEAD} ${stampOf(now)} `);
    } catch {
      return undefined;
    }
    const newline = text?.indexOf(10) ?? -1;
    if (!text || newline < 0) return undefined;
    const body = text.subarray(newline + 1);
    if (!text.toString('latin1', 0, newline).endsWith(` ${crc32(body).toString(16)}`)) return undefined;
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
   * the file that will hold the index is made first, in the cache root, and its time taken as the
   * filesystem's now: a folder last changed before it, strictly, shows any later change in its
   * times. Only where the root and the folder are one filesystem (a folder linked to another
   * could have a coarser clock, or another machine's).
   */
  async record(folder: string, dir: string): Promise<IndexRecording | undefined> {
    if (!(await this.#keeps(dir))) return undefined;
    await this.#writing.get(folder);
    const index = this.path(folder);
    const written = `${index}.${randomBytes(6).toString('hex')}.tmp`;
    let fd: number;
    try {
      fd = await openFile(written, 'wx');
    } catch {
      return undefined;
    }
    unfinished(written, true);
    let open = true;
    let ended = false;
    let finished = false;
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
      unfinished(written, false);
    };
    try {
      const now = (await fstatFile(fd, { bigint: true })).mtimeNs;
      const before = await statPath(dir);
      const root = await statPath(this.#root);
      if (!before || before.dev !== root?.dev || before.mtimeNs >= now || before.ctimeNs >= now) {
        await discard();
        return undefined;
      }
      const write = async (metas: readonly string[], unread: () => string[]) => {
        try {
          // Unchanged since the headers were read: else the index would be of no use.
          const after = await statPath(dir);
          if (!after || stampOf(after) !== stampOf(before)) return await discard();
          // The headers' own JSON, laid out as an IndexBody: not each metadata stringified again.
          const json = Buffer.from(`{"metas":[${metas.join(',')}],"unread":${JSON.stringify(unread())}}`);
          await writeAll(fd, [Buffer.from(`${HEAD} ${stampOf(before)} ${crc32(json).toString(16)}\n`), json]);
          await close();
          await renameFile(written, index);
          ended = true;
          unfinished(written, false);
          await this.#sweep(folder, Date.now() - LEFT_AFTER_MS);
        } catch {
          await discard();
        }
      };
      return {
        abandon: () => (finished ? Promise.resolve() : discard()),
        finish: (metas, unread) => {
          finished = true;
          // After the run has taken what it planned from: the index is for the next run.
          const writing = new Promise<void>((resolve) => setImmediate(resolve))
            .then(() => write(metas, unread))
            .finally(() => {
              if (this.#writing.get(folder) === writing) this.#writing.delete(folder);
            });
          this.#writing.set(folder, writing);
        },
      };
    } catch {
      await discard();
      return undefined;
    }
  }

  /**
   * Removes the index files of `folder` left unfinished by processes killed while writing them
   * (Ctrl-C during a run's planning): those last changed before `before`, which no live process
   * is still writing. Never rejects.
   */
  async #sweep(folder: string, before: number): Promise<void> {
    try {
      for (const name of await readdir(this.#root)) {
        if (name === indexName(folder) || !this.isIndexOf(folder, name)) continue;
        const path = inDir(this.#root, name);
        const stats = await statPath(path);
        if (stats && Number(stats.mtimeMs) < before) await rm(path, { force: true });
      }
    } catch {
      // Only tidying: the next index written tries again.
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
/**
 * How long after its last change an unfinished index file is taken as left by a killed process.
 * One being written is changed when made and when written, a run's planning apart: its header
 * reads take seconds for hundreds of thousands of entries.
 */
const LEFT_AFTER_MS = 10 * 60_000;
/** The name of task folder `folder`'s index file, beside it: `.<folder>.index`, no task folder's. */
function indexName(folder: string): string {
  return `.${folder}.index`;
}

/** `.<12 hex>.tmp`: the end of an index file's name while it is written. */
const TEMPORARY = '.000000000000.tmp';

function temporary(index: string): RegExp {
  return new RegExp(`^${index.replace(/[.]/g, '\\.')}\\.[0-9a-f]{12}\\.tmp$`);
}

/** The index files being written by this process, removed if it exits first (`process.exit()`). */
const writing = new Set<string>();

/** Counts an index file as being written, or no longer. */
function unfinished(path: string, yes: boolean): void {
  if (!yes) {
    writing.delete(path);
    return;
  }
  if (!exitHook) {
    exitHook = true;
    process.once('exit', () => {
      for (const left of writing) rmSync(left, { force: true });
    });
  }
  writing.add(path);
}
let exitHook = false;

/** The file at `path`, if it starts with `head`; `undefined` if it does not or is missing. */
function readIf(path: string, head: string): Promise<Buffer | undefined> {
  return readingFile(path, async (fd) => {
    const start = Buffer.allocUnsafe(head.length);
    if ((await readAt(fd, start)) < head.length || start.toString('latin1') !== head) return undefined;
    const whole = Buffer.allocUnsafe((await fstatFile(fd)).size);
    return whole.subarray(0, await readAt(fd, whole));
  });
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
