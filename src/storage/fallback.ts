import type { DefaultStore, DefaultStoreStatus } from '../platform.js';
import type { Store } from './types.js';

/** Why the primary store is not used: what its check threw, or how long it went unanswered (ms). */
export type FallbackReason = { readonly error: unknown } | { readonly timeout: number };

/**
 * The browsers' default store: `primary` (IndexedDB) if it works, else `fallback()` (memory), with
 * a warning saying why, in the words `problem` gives (`IndexedDB failed to open (...)`); its status
 * tells which was chosen, and why. Whether it works is found once, on first use, by listing an
 * empty folder: IndexedDB that is missing, blocked or failing to open (some private windows) shows
 * there, before any result is at stake. A check that has not settled after `patience` ms (an open
 * that never settles, as a Safari bug once did) counts as failed, for the life of this store; a
 * slower one is waited for that long.
 */
export function withFallback(
  primary: () => Store,
  fallback: () => Store,
  problem: (reason: FallbackReason) => string,
  patience = 5_000,
): DefaultStore {
  let active: Promise<{ store: Store; status: DefaultStoreStatus }> | undefined;
  const fellBack = (reason: FallbackReason) => {
    const why = problem(reason);
    console.warn(`checkpoint-tool: ${why}; results are cached in memory only`);
    return { store: fallback(), status: { kind: 'memory', persistent: false, reason: why } as const };
  };
  const check = async () => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const candidate = primary();
      const probe = candidate.keys('checkpoint-tool-probe');
      const late = new Promise<void>((resolve) => {
        timer = setTimeout(resolve, patience);
      });
      if ((await Promise.race([probe, late])) !== undefined) {
        return { store: candidate, status: { kind: 'indexeddb', persistent: true } as const };
      }
      probe.catch(() => {}); // settling after the verdict, if ever, changes nothing
      return fellBack({ timeout: patience });
    } catch (error) {
      return fellBack({ error });
    } finally {
      clearTimeout(timer);
    }
  };
  const chosen = () => {
    active ??= check();
    return active;
  };
  const store = async () => (await chosen()).store;
  const status = async () => (await chosen()).status;
  return {
    status,
    store: {
      lock: async (folder, key, version) => {
        const current = await store();
        return current.lock ? current.lock(folder, key, version) : async () => {};
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
    },
  };
}
