import { hash, randomBytes } from 'node:crypto';
import { mkdir, readdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CheckpointError } from '../errors.js';
import { checkOption, checkOptionNames, isFunction, isString } from '../options.js';
import { type EntryRead, type Header, readEntry, writeEntryTo } from './entry-file.js';
import { closeFile, inDir, isMissing, mayBlock, openFile, renameFile, statPath } from './fs-calls.js';
import { FolderOwners } from './fs-folder-owners.js';
import { type HeaderRead, problem, readHeader, readHeadersIn } from './fs-headers.js';
import { HeaderIndexes, type IndexedHeaders } from './fs-index.js';
import { LockFiles } from './fs-lock.js';
import type { EntryMeta, Store, StoredEntry } from './types.js';

// Task ids (`namespace.name`): no separator, and never `.` or `..`.
const safeFolder = /^[A-Za-z0-9_-][A-Za-z0-9_.-]*$/;

/** Options of {@link fsStore}. */
export interface FsStoreOptions {
  /**
   * The cache root. Entries go to `<dir>/checkpoint/<namespace>.<task>/<hash>.entry`.
   * @default process.env.CP_CACHE_DIR (when set and not empty), else './.cache'
   */
  dir?: string | undefined;
  /**
   * Called once for each damaged entry found (truncated, bit-flipped, foreign or misplaced file),
   * just before it is removed; the run then computes it again. An async one is awaited, and its
   * rejection counts as a throw would (the entry is then left in place).
   * @default a `console.warn` naming the entry
   */
  onCorrupt?: ((problem: CorruptEntry) => void) | undefined;
}

/** A damaged entry, as reported to {@link FsStoreOptions.onCorrupt}. */
export interface CorruptEntry {
  /** The task's folder (`namespace.name`). */
  readonly folder: string;
  /** The instance's canonical argument key. */
  readonly key: string;
  /** The entry file. */
  readonly path: string;
  /** What is wrong with it. */
  readonly reason: string;
}

/**
 * A store of one file per entry under a folder per task, for Node.js. Writes go to a temporary
 * file that is then renamed, so a crash never leaves a half-written entry. File names are hashes
 * of the argument keys: whatever the arguments hold, no path escapes the task's folder.
 */
export function fsStore(options: FsStoreOptions = {}): Store {
  // From JavaScript, a path given alone or a misspelt option would put the cache elsewhere unsaid.
  const given = checkOptionNames('fsStore()', options, ['dir', 'onCorrupt'], 'dir');
  checkOption('fsStore()', 'dir', given.dir, 'a string (a path)', isString);
  checkOption('fsStore()', 'onCorrupt', given.onCorrupt, 'a function', isFunction);
  // An empty name is no directory: `CP_CACHE_DIR= node app.js` keeps the default.
  const root = resolve(options.dir || process.env.CP_CACHE_DIR || './.cache', 'checkpoint');
  /** The folders this store made (or is making), as far as it knows. */
  const made = new Map<string, Promise<void>>();
  const owners = new FolderOwners(root);
  const locks = new LockFiles({ staleMs: 10_000, heartbeatMs: 2_000 });
  const indexes = new HeaderIndexes(root);
  const onCorrupt =
    options.onCorrupt ??
    ((entry: CorruptEntry) =>
      console.warn(
        `checkpoint-tool: damaged cache entry ${entry.folder}(${entry.key.slice(1, -1)}) (${entry.reason}) at ${entry.path}; it will be recomputed`,
      ));
  const folderPath = (folder: string) => {
    if (!safeFolder.test(folder)) {
      throw new CheckpointError(
        `fsStore: expected a folder name of letters, digits, _, - and . (not leading .), got ${JSON.stringify(folder)}`,
      );
    }
    return inDir(root, folder);
  };
  const fileName = (key: string) => `${hash('sha256', key)}.entry`;
  const entryPath = (folder: string, key: string) => inDir(folderPath(folder), fileName(key));
  /**
   * The lock file of an entry for one version of its task. Without a version it is
   * `<hash>.entry.lock`, the name earlier releases gave every version's lock: their processes still
   * respect it for tasks without a version.
   */
  const lockPath = (path: string, version = '') =>
    version === '' ? `${path}.lock` : `${path}.${hash('sha256', version).slice(0, 16)}.lock`;
  /** Task `folder`'s folder, once found to be its own (see {@link FolderOwners}). */
  const ownFolder = async (folder: string) => {
    const dir = folderPath(folder);
    await owners.check(folder, dir);
    return dir;
  };
  /** {@link entryPath}, in a folder found to be its task's own. */
  const ownEntryPath = async (folder: string, key: string) => inDir(await ownFolder(folder), fileName(key));

  /**
   * Runs `action` in task `folder`'s existing folder, once found to be its own (checked after it
   * is made). A folder removed since this store made it (cleared through another store object or
   * by another process) is made again, and `action` retried: clearing a task while its entries are
   * written makes them written again, never fails them.
   */
  async function inFolder<T>(folder: string, action: () => Promise<T>): Promise<T> {
    const dir = folderPath(folder);
    for (let attempt = 1; ; attempt++) {
      try {
        // One mkdir per folder, however many entries wait for it.
        let making = made.get(dir);
        if (!making) {
          making = mkdir(dir, { recursive: true }).then(() => owners.check(folder, dir));
          made.set(dir, making);
          making.catch(() => made.delete(dir));
        }
        await making;
        return await action();
      } catch (error) {
        // Missing: the folder or its parent was removed meanwhile, even during the mkdir. Bounded,
        // for a folder that cannot be made at all.
        if (!isMissing(error) || attempt === FOLDER_ATTEMPTS) throw error;
        made.delete(dir);
        owners.forget(dir);
      }
    }
  }

  /** The metadata a header read gives for `key`, the damaged entry removed. */
  function metaOf(
    folder: string,
    key: string,
    read: HeaderRead | undefined,
  ): EntryMeta | Promise<undefined> | undefined {
    if (!read) return undefined;
    const reason = problem(read.header, key, read.size);
    if (reason) return damaged(folder, key, reason);
    return (read.header as Header).meta;
  }

  /** Reports a damaged entry once, then removes it, so that it counts as missing from now on. */
  async function damaged(folder: string, key: string, reason: string): Promise<undefined> {
    // Awaited, so that an async callback that rejects fails the read as one that throws does.
    await onCorrupt({ folder, key, path: entryPath(folder, key), reason });
    await rm(entryPath(folder, key), { force: true });
    return undefined;
  }

  /** The entry's metadata and value, from one read of its file (one file: a consistent pair). */
  async function readValue(folder: string, key: string): Promise<StoredEntry | undefined> {
    let read: EntryRead;
    const path = await ownEntryPath(folder, key);
    try {
      read = await readEntry(path);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    const { bytes, header, checksum } = read;
    const reason = problem(header, key, bytes.length);
    if (reason) return damaged(folder, key, reason);
    const { valueStart, meta, valueChecksum } = header as Header;
    if (checksum !== valueChecksum) return damaged(folder, key, 'value checksum mismatch');
    // A plain Uint8Array over the file's own buffer: no copy.
    return { meta, value: new Uint8Array(bytes.buffer, bytes.byteOffset + valueStart, meta.size) };
  }

  async function readMeta(folder: string, key: string): Promise<EntryMeta | undefined> {
    const path = await ownEntryPath(folder, key);
    // Asked under its lock, an entry is most often missing (a cold run): a stat says so without
    // the exception a failed open makes.
    if (mayBlock() && !(await statPath(path))) return undefined;
    return metaOf(folder, key, await readHeader(path));
  }

  /**
   * Reads the headers of the entries of `keys` at `positions` (`name(i)` the file of `keys[i]`) in
   * task `folder`'s folder `dir`, each checked (a damaged entry is reported and removed). With
   * `indexed`, `texts` has the metadata JSON of the sound entries read, for an index.
   */
  async function readHeaders(
    folder: string,
    dir: string,
    keys: readonly string[],
    positions: readonly number[],
    name: (i: number) => string,
    indexed: boolean,
  ): Promise<{ metas: (EntryMeta | undefined)[]; texts: string[] }> {
    const metas = new Array<EntryMeta | Promise<undefined> | undefined>(keys.length);
    const texts: string[] = [];
    await readHeadersIn(
      positions,
      (i) => inDir(dir, name(i)),
      (i, header) => {
        const meta = metaOf(folder, keys[i] as string, header);
        // A damaged entry's report may reject (onCorrupt threw) long before Promise.all below
        // takes it: marked handled meanwhile, it fails the read there rather than the process.
        if (meta instanceof Promise) meta.catch(() => {});
        else if (meta && indexed) texts.push(((header as HeaderRead).header as Header).text);
        metas[i] = meta;
      },
    );
    return { metas: await Promise.all(metas), texts };
  }

  /**
   * The metadata of `keys`' entries from the folder's index: read from their files only for the
   * entries present that the index did not read.
   */
  async function fromIndex(
    folder: string,
    dir: string,
    keys: readonly string[],
    { metas, unread }: IndexedHeaders,
  ): Promise<(EntryMeta | undefined)[]> {
    const found: (EntryMeta | undefined)[] = keys.map((key) => metas.get(key));
    if (unread.size === 0) return found;
    const names: string[] = [];
    const positions: number[] = [];
    keys.forEach((key, i) => {
      if (found[i]) return;
      names[i] = fileName(key);
      if (unread.has(names[i])) positions.push(i);
    });
    const read = await readHeaders(folder, dir, keys, positions, (i) => names[i] as string, false);
    for (const i of positions) found[i] = read.metas[i];
    return found;
  }

  return {
    readMeta,
    async readMetas(folder, keys) {
      const dir = await ownFolder(folder);
      // Many keys: the folder's index, if it is unchanged since the index was built; else its
      // headers are read, and an index built of them (see HeaderIndexes).
      const many = keys.length >= LIST_FROM;
      const indexed = many ? await indexes.read(folder, dir) : undefined;
      if (indexed) return fromIndex(folder, dir, keys, indexed);
      const recording = many ? await indexes.record(folder, dir) : undefined;
      try {
        const names = keys.map(fileName);
        // Listing the folder once spares a cold run a failed open per instance; a few keys are
        // cheaper to open than a large folder is to list.
        let present: Set<string> | undefined;
        if (many) {
          try {
            present = new Set(await readdir(dir));
          } catch (error) {
            if (!isMissing(error)) throw error;
            present = new Set();
          }
        }
        const positions: number[] = [];
        for (let i = 0; i < keys.length; i++) if (!present || present.has(names[i] as string)) positions.push(i);
        const { metas, texts } = await readHeaders(
          folder,
          dir,
          keys,
          positions,
          (i) => names[i] as string,
          recording !== undefined,
        );
        // Worth an index once a run found many entries cached: not after a cold run's planning.
        if (recording && present && texts.length >= LIST_FROM) {
          recording.finish(texts, () => {
            const asked = new Set(names);
            return [...present].filter((name) => name.endsWith('.entry') && !asked.has(name));
          });
        }
        return metas;
      } finally {
        // After finish, which has it written, a no-op; after a failed read, no index is written.
        await recording?.abandon();
      }
    },
    readValue,
    async write(folder, key, { meta, value }) {
      const path = entryPath(folder, key);
      const writeEntry = (fd: number) => writeEntryTo(fd, meta, value);
      // Under its lock, the entry is written into the lock file, which is then renamed into place.
      const lock = lockPath(path, meta.version);
      if (locks.holds(lock) && (await locks.commit(lock, writeEntry, path))) return;
      await inFolder(folder, async () => {
        const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
        const fd = await openFile(temporary, 'w');
        try {
          try {
            await writeEntry(fd);
          } finally {
            await closeFile(fd);
          }
          await renameFile(temporary, path);
        } catch (error) {
          // Half written (a full disk) or not renamed: leave no temporary file behind.
          await rm(temporary, { force: true });
          throw error;
        }
      });
    },
    async lock(folder, key, version) {
      const path = lockPath(entryPath(folder, key), version);
      await inFolder(folder, () => locks.acquire(path));
      return () => locks.release(path);
    },
    async delete(folder, key) {
      await rm(await ownEntryPath(folder, key), { force: true });
    },
    async clear(folder) {
      const dir = await ownFolder(folder);
      made.delete(dir);
      owners.forget(dir);
      // Moved aside first, in one atomic rename: runs writing entries meanwhile make the folder
      // again, where removing it in place would fail (ENOTEMPTY) as they fill it.
      const aside = `.${folder}.${randomBytes(6).toString('hex')}${CLEARED}`;
      try {
        await renameFile(dir, join(root, aside));
      } catch (error) {
        // Not there, or not movable (a file open on Windows): removed in place.
        if (!isMissing(error)) await rm(dir, { recursive: true, force: true });
      }
      // This folder's, and any that a clear of this task left when its process was killed. Their
      // names, starting with `.`, are never a task's folder.
      let names: string[];
      try {
        names = await readdir(root);
      } catch (error) {
        if (isMissing(error)) return;
        throw error;
      }
      const leftover = (name: string) =>
        (name.length === aside.length && name.startsWith(`.${folder}.`) && name.endsWith(CLEARED)) ||
        indexes.isIndexOf(folder, name);
      await Promise.all(
        names.filter(leftover).map((name) => rm(join(root, name), { recursive: true, force: true, maxRetries: 2 })),
      );
    },
    async keys(folder) {
      const dir = await ownFolder(folder);
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
      const keys: string[] = [];
      for (const name of names) {
        if (!name.endsWith('.entry')) continue;
        const read = await readHeader(inDir(dir, name));
        // Only whole entries, each in its own file (not a copy under another key's name).
        if (!read || typeof read.header === 'string') continue;
        const { key } = read.header.meta;
        if (name === fileName(key) && !problem(read.header, key, read.size)) keys.push(key);
      }
      return keys;
    },
  };
}

/** How many times a write or lock whose folder keeps vanishing (cleared meanwhile) makes it again. */
const FOLDER_ATTEMPTS = 32;
/** The end of the names of folders being removed by a clear, beside the task folders. */
const CLEARED = '.cleared';
/** From how many keys `readMetas` lists the folder instead of opening each entry. */
const LIST_FROM = 64;
