import { createHash, randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { decodeHeader, encodeHeader, headerLength } from './entry-file.js';
import type { EntryMeta, Store } from './types.js';

/** Options of {@link fsStore}. */
export interface FsStoreOptions {
  /**
   * The cache root. Entries go to `<dir>/checkpoint/<namespace>.<task>/<hash>.entry`.
   * @default process.env.CP_CACHE_DIR ?? './.cache'
   */
  dir?: string;
}

/**
 * A store of one file per entry under a folder per task, for Node.js. Writes go to a temporary
 * file that is then renamed, so a crash never leaves a half-written entry. File names are hashes
 * of the argument keys: whatever the arguments hold, no path escapes the task's folder.
 */
export function fsStore(options: FsStoreOptions = {}): Store {
  const root = resolve(options.dir ?? process.env.CP_CACHE_DIR ?? './.cache', 'checkpoint');
  const made = new Set<string>();
  const folderPath = (folder: string) => join(root, folder);
  const entryPath = (folder: string, key: string) =>
    join(root, folder, `${createHash('sha256').update(key).digest('hex')}.entry`);

  async function readHeader(path: string): Promise<{ meta: EntryMeta; size: number; valueStart: number } | undefined> {
    const file = await openIfExists(path);
    if (!file) return undefined;
    try {
      const first = Buffer.allocUnsafe(4096);
      const { bytesRead } = await file.read(first, 0, first.length, 0);
      let bytes = first.subarray(0, bytesRead);
      const needed = headerLength(bytes);
      if (needed !== undefined && needed > bytes.length) {
        bytes = Buffer.allocUnsafe(needed);
        await file.read(bytes, 0, needed, 0);
      }
      const header = decodeHeader(bytes);
      if (!header) return undefined;
      const { size } = await file.stat();
      return { ...header, size };
    } finally {
      await file.close();
    }
  }

  return {
    async readMeta(folder, key) {
      const header = await readHeader(entryPath(folder, key));
      if (!header || header.meta.key !== key || header.size !== header.valueStart + header.meta.size) return undefined;
      return header.meta;
    },
    async readValue(folder, key) {
      let bytes: Buffer;
      try {
        bytes = await readFile(entryPath(folder, key));
      } catch (error) {
        if (isMissing(error)) return undefined;
        throw error;
      }
      const header = decodeHeader(bytes);
      if (!header || header.meta.key !== key || bytes.length !== header.valueStart + header.meta.size) return undefined;
      return bytes.subarray(header.valueStart);
    },
    async write(folder, key, { meta, value }) {
      const dir = folderPath(folder);
      if (!made.has(dir)) {
        await mkdir(dir, { recursive: true });
        made.add(dir);
      }
      const path = entryPath(folder, key);
      const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
      const file = await open(temporary, 'w');
      try {
        await file.writev([encodeHeader(meta), value]);
      } finally {
        await file.close();
      }
      try {
        await rename(temporary, path);
      } catch (error) {
        await rm(temporary, { force: true });
        throw error;
      }
    },
    async delete(folder, key) {
      await rm(entryPath(folder, key), { force: true });
    },
    async clear(folder) {
      made.delete(folderPath(folder));
      await rm(folderPath(folder), { recursive: true, force: true });
    },
    async keys(folder) {
      let names: string[];
      try {
        names = await readdir(folderPath(folder));
      } catch (error) {
        if (isMissing(error)) return [];
        throw error;
      }
      const keys: string[] = [];
      for (const name of names) {
        if (!name.endsWith('.entry')) continue;
        const header = await readHeader(join(folderPath(folder), name));
        if (header) keys.push(header.meta.key);
      }
      return keys;
    },
  };
}

async function openIfExists(path: string) {
  try {
    return await open(path, 'r');
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

function isMissing(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}
