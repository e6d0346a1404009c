/**
 * Browser storage quota helpers (`navigator.storage`: pages, and workers for `storageUsage()`).
 * @module
 */

/** How much storage this origin uses, and may use, in bytes. */
export interface StorageUsage {
  /** Bytes used by this origin (IndexedDB, caches...), as the browser estimates them. */
  readonly usage: number;
  /** Bytes this origin may use before writes fail with a quota error. */
  readonly quota: number;
  /** Whether the browser keeps this origin's storage under storage pressure. */
  readonly persisted: boolean;
}

/**
 * Asks the browser to keep this origin's storage (the cache included) rather than evict it under
 * storage pressure. Resolves to whether storage is persistent now; `false` where the browser
 * refuses or has no such API. Some browsers ask the user, or decide from engagement.
 */
export async function requestPersistentStorage(): Promise<boolean> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.persist) return false;
  return (await storage.persisted?.()) || storage.persist();
}

/** Reports this origin's storage use and quota (`navigator.storage.estimate()`). */
export async function storageUsage(): Promise<StorageUsage | undefined> {
  const storage = globalThis.navigator?.storage;
  if (!storage?.estimate) return undefined;
  const [{ usage = 0, quota = 0 }, persisted] = await Promise.all([
    storage.estimate(),
    storage.persisted?.() ?? Promise.resolve(false),
  ]);
  return { usage, quota, persisted };
}
