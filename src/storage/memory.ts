import type { Entry, EntryMeta, Store } from './types.js';

/**
 * A store that keeps entries in memory, for tests and as the fallback where no persistent storage
 * is available. Entries last as long as the store object.
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
      return folders.get(name)?.get(key)?.value;
    },
    async write(name, key, entry) {
      folder(name).set(key, entry);
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
