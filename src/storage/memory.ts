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
      return folders.get(name)?.get(key)?.meta;
    },
    async readMetas(name, keys) {
      const entries = folders.get(name);
      return keys.map((key) => entries?.get(key)?.meta);
    },
    async readValue(name, key) {
      return folders.get(name)?.get(key)?.value[0]?.slice();
    },
    async write(name, key, entry) {
      // Kept as given (the writer hands the entry over); the metadata frozen rather than cloned on
      // every read, and values copied on read, so no reader can change what the next one reads.
      Object.freeze(entry.meta.inputs);
      folder(name).set(key, { meta: Object.freeze(entry.meta), value: [joinPieces(entry.value)] });
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
