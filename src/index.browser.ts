/**
 * The browser entry: the shared API, with results cached in IndexedDB by default, or in memory
 * (with a warning) where IndexedDB is unavailable.
 * @module
 */
import { setDefaultStore } from './platform.js';
import { idbStore } from './storage/idb.js';
import { memoryStore } from './storage/memory.js';

setDefaultStore(() => {
  if (typeof indexedDB !== 'undefined') return idbStore();
  console.warn('checkpoint-tool: IndexedDB is unavailable; results are cached in memory only');
  return memoryStore();
});

export * from './core.js';
export { type WebPoolOptions, webPool } from './executors/web-pool.js';
export { type IdbStoreOptions, idbStore } from './storage/idb.js';
