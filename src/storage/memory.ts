import type { Entry, EntryMeta, Store } from './types.js';

/**
 * A store that keeps entries in memory, for tests and as the fallback where no persistent storage
 * is available. Entries last as long as the store object. Values are copied in and out, as a
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
    async readValue(name, key) {
      return folders.get(name)?.get(key)?.value.slice();
    },
    async write(name, key, entry) {
      // Frozen rather than cloned on every read: metadata is read far more often than written.
      const meta = Object.freeze({ ...entry.meta, inputs: Object.freeze([...entry.meta.inputs]) });
      folder(name).set(key, { meta, value: entry.value.slice() });
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
