/**
 * The browser entry: the shared API, with results cached in IndexedDB by default, or in memory
 * (with a warning saying why) where IndexedDB is missing, fails to open, or does not open within
 * 5 s.
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
    (reason) =>
      'timeout' in reason
        ? `IndexedDB did not open within ${reason.timeout / 1_000} s`
        : typeof indexedDB === 'undefined'
          ? 'IndexedDB is unavailable'
          : `IndexedDB failed to open (${reason.error instanceof Error ? `${reason.error.name}: ${reason.error.message}` : String(reason.error)})`,
  ),
);

export * from './core.js';
export { type WebPoolOptions, webPool } from './executors/web-pool.js';
export { type IdbStoreOptions, idbStore } from './storage/idb.js';
export { requestPersistentStorage, type StorageUsage, storageUsage } from './storage/persist.js';
