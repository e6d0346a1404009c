import type { Store } from './types.js';

/**
 * A store that uses `primary` if it works, else `fallback()`, with a warning. Whether it works is
 * found once, on first use, by listing an empty folder: IndexedDB that is missing, blocked or
 * failing to open (some private windows) shows there, before any result is at stake.
 */
export function withFallback(primary: () => Store, fallback: () => Store, warning: string): Store {
  let active: Promise<Store> | undefined;
  const store = () => {
    active ??= (async () => {
      try {
        const candidate = primary();
        await candidate.keys('checkpoint-tool-probe');
        return candidate;
      } catch (error) {
        console.warn(`${warning} (${error instanceof Error ? `${error.name}: ${error.message}` : String(error)})`);
        return fallback();
      }
    })();
    return active;
  };
  return {
    lock: async (folder, key) => {
      const current = await store();
      return current.lock ? current.lock(folder, key) : async () => {};
    },
    readMeta: async (folder, key) => (await store()).readMeta(folder, key),
    readMetas: async (folder, keys) => {
      const current = await store();
      return current.readMetas
        ? current.readMetas(folder, keys)
        : Promise.all(keys.map((key) => current.readMeta(folder, key)));
    },
    readValue: async (folder, key) => (await store()).readValue(folder, key),
    write: async (folder, key, entry) => (await store()).write(folder, key, entry),
    delete: async (folder, key) => (await store()).delete(folder, key),
    clear: async (folder) => (await store()).clear(folder),
    keys: async (folder) => (await store()).keys(folder),
  };
}
