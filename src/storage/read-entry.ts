/**
 * How the core reads a cached value with its metadata, from any store.
 * @module
 */
import type { Store, StoredEntry } from './types.js';

/**
 * Reads an entry's metadata and value as {@link Store.readEntry} does, with the store's own
 * `readEntry` where it has one, else with `readValue`, then `readMeta`: an entry whose metadata
 * still has the stamp a caller expects had it when its value was read, since a stamp, once
 * replaced, never comes back.
 */
export async function readEntryOf(store: Store, folder: string, key: string): Promise<StoredEntry | undefined> {
  if (store.readEntry) return store.readEntry(folder, key);
  const value = await store.readValue(folder, key);
  const meta = value && (await store.readMeta(folder, key));
  return meta && value ? { meta, value } : undefined;
}
