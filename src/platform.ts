import type { Store } from './storage/types.js';

/**
 * Where the default store keeps results, as {@link defaultStoreStatus} reports it. `persistent`
 * means that results outlive the process or the page (a reload, a restart); it is not the
 * browser's "persisted" storage of `requestPersistentStorage()`, which is about eviction.
 */
export type DefaultStoreStatus =
  | {
      /** The filesystem (Node.js) or IndexedDB (browsers). */
      readonly kind: 'fs' | 'indexeddb';
      readonly persistent: true;
    }
  | {
      /** Memory: results last as long as the page or the process. */
      readonly kind: 'memory';
      readonly persistent: false;
      /** Why, as in `IndexedDB failed to open (SecurityError: ...)`. */
      readonly reason: string;
    };

/** A platform's default store, and how to tell where it keeps results. */
export interface DefaultStore {
  readonly store: Store;
  readonly status: () => Promise<DefaultStoreStatus>;
}

let makeDefaultStore: () => DefaultStore = () => {
  throw new Error('checkpoint-tool: no default store; pass `store` in the options');
};
let defaultStore: DefaultStore | undefined;

/** Sets how the platform's default store is made; called once by each entry point. */
export function setDefaultStore(make: () => DefaultStore): void {
  makeDefaultStore = make;
  defaultStore = undefined;
}

/** The platform's default store, made on first use. */
export function getDefaultStore(): Store {
  defaultStore ??= makeDefaultStore();
  return defaultStore.store;
}

/**
 * Where the default store (the one runs use without a `store` option) keeps results: on the
 * filesystem under Node.js, in IndexedDB in browsers, or in memory, where results last only as long
 * as the page or process. In browsers it waits for IndexedDB to open (at most 5 s) and tells
 * whether the store fell back to memory, and why: a page can tell its user that results will not
 * survive a reload. Like a first run, it makes the default store, which in browsers opens (or
 * creates) the `checkpoint` database.
 * @example
 * const status = await defaultStoreStatus();
 * if (!status.persistent) showNotice(`Results are not saved: ${status.reason}`);
 */
export async function defaultStoreStatus(): Promise<DefaultStoreStatus> {
  defaultStore ??= makeDefaultStore();
  return defaultStore.status();
}
