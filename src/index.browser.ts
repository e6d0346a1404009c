/**
 * The browser entry: the shared API, with results cached in IndexedDB by default, or in memory
 * (with a warning) where IndexedDB is unavailable.
 * @module
 */
import { setDefaultStore } from './platform.js';
import { withFallback } from './storage/fallback.js';
import { idbStore } from './storage/idb.js';
import { memoryStore } from './storage/memory.js';

setDefaultStore(() =>
  withFallback(
    () => {
      if (typeof indexedDB === 'undefined') throw new Error('no indexedDB in this context');
      return idbStore();
    },
    memoryStore,
    'checkpoint-tool: IndexedDB is unavailable; results are cached in memory only',
  ),
);

export * from './core.js';
export { type WebPoolOptions, webPool } from './executors/web-pool.js';
export { type IdbStoreOptions, idbStore } from './storage/idb.js';
export { requestPersistentStorage, type StorageUsage, storageUsage } from './storage/persist.js';
