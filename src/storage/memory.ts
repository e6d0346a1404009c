import { joinPieces } from './pieces.js';
import type { Entry, EntryMeta, Store } from './types.js';

/**
 * A store that keeps entries in memory, for tests and as the fallback where no persistent storage
 * is available. Entries last as long as the store object. Values are copied when read, as a
 * persistent store would: a caller that changes a typed array it got back never changes the cache.
 */
export function memoryStore(): Store {
  const folders = new Map<string, Map<string, Entry>>();
  const folder = (name: string) => {
    let entries = folders.get(name);
    if (!entries) {
      entries = new Map();
      folders.set(name, entries);
    }
    return entries;
  };
  return {
    async readMeta(name, key): Promise<EntryMeta | undefined> {
      return copyMeta(folders.get(name)?.get(key)?.meta);
    },
    async readMetas(name, keys) {
      const entries = folders.get(name);
      return keys.map((key) => copyMeta(entries?.get(key)?.meta));
    },
    async readValue(name, key) {
      const value = folders.get(name)?.get(key)?.value;
      return value && joinPieces(value).slice();
    },
    write(name, key, entry) {
      // Kept as given (the writer hands the entry over), but for a value in several pieces: those
      // after the first can be views of the computed value's own memory, which its user may change
      // or move to a worker. Metadata and values are copied on read, so no reader can change what
      // the next one reads. Done at once: no promise.
      const value = entry.value.length > 1 ? [joinPieces(entry.value)] : entry.value;
      folder(name).set(key, value === entry.value ? entry : { meta: entry.meta, value });
    },
    async delete(name, key) {
      folders.get(name)?.delete(key);
    },
    async clear(name) {
      folders.delete(name);
    },
    async keys(name) {
      return [...(folders.get(name)?.keys() ?? [])];
    },
  };
}

function copyMeta(meta: EntryMeta | undefined): EntryMeta | undefined {
  return meta && { ...meta, inputs: [...meta.inputs] };
}
