import { createStore, delMany, get, promisifyRequest, setMany, type UseStore } from 'idb-keyval';
import type { EntryMeta, Store } from './types.js';

/** Options of {@link idbStore}. */
export interface IdbStoreOptions {
  /**
   * Name of the IndexedDB database.
   * @default 'checkpoint'
   */
  dbName?: string;
  /**
   * Name of the object store in that database.
   * @default 'entries'
   */
  storeName?: string;
}

/**
 * A store in IndexedDB (through idb-keyval), for browsers. Each entry is two records, its
 * metadata under `['m', folder, key]` and its value under `['v', folder, key]`, written in one
 * transaction so that a closed tab never leaves one without the other. The database is opened on
 * first use. Where the Web Locks API exists, tabs running the same graph compute each instance once.
 */
export function idbStore(options: IdbStoreOptions = {}): Store {
  let database: UseStore | undefined;
  const db = () => {
    database ??= createStore(options.dbName ?? 'checkpoint', options.storeName ?? 'entries');
    return database;
  };
  // Array keys sort after strings, so [kind, folder, []] bounds every [kind, folder, key].
  const range = (kind: string, folder: string) => IDBKeyRange.bound([kind, folder], [kind, folder, []]);
  const lockPrefix = `checkpoint-tool:${options.dbName ?? 'checkpoint'}/${options.storeName ?? 'entries'}:`;
  return {
    // Web Locks are shared by every tab and worker of the origin, and released when a tab closes.
    lock: globalThis.navigator?.locks ? (folder, key) => webLock(`${lockPrefix}${folder}:${key}`) : undefined,
    readMeta(folder, key) {
      return get<EntryMeta>(['m', folder, key], db());
    },
    async readValue(folder, key) {
      const value = await get<ArrayBuffer | Uint8Array>(['v', folder, key], db());
      return value instanceof ArrayBuffer ? new Uint8Array(value) : value;
    },
    write(folder, key, { meta, value }) {
      // IndexedDB clones a view's whole buffer: store only the bytes of the view.
      const bytes = value.byteOffset === 0 && value.byteLength === value.buffer.byteLength ? value : value.slice();
      return setMany(
        [
          [['v', folder, key], bytes],
          [['m', folder, key], meta],
        ],
        db(),
      );
    },
    delete(folder, key) {
      return delMany(
        [
          ['m', folder, key],
          ['v', folder, key],
        ],
        db(),
      );
    },
    clear(folder) {
      return db()('readwrite', (store) => {
        store.delete(range('m', folder));
        store.delete(range('v', folder));
        return promisifyRequest(store.transaction);
      });
    },
    keys(folder) {
      return db()('readonly', async (store) => {
        const keys = await promisifyRequest(store.getAllKeys(range('m', folder)));
        return keys.map((key) => (key as [string, string, string])[2]);
      });
    },
  };
}

/** Takes the Web Lock of that name, resolving to the function that releases it. */
function webLock(name: string): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    navigator.locks.request(name, () => new Promise<void>((release) => resolve(async () => release()))).catch(reject);
  });
}
