/**
 * Whether the demo's results outlive the page. The browser entry's default store uses IndexedDB
 * where it works, and memory otherwise, saying so only in a console warning; the page asks
 * IndexedDB the same question the library does (list an empty folder) to tell the user.
 * @module
 */
import { idbStore } from 'checkpoint-tool/browser';

/**
 * Resolves to whether IndexedDB opens and answers here: it may be missing, or exist and fail (some
 * private windows), or never answer; after `patience` ms without an answer, it counts as failed,
 * as the library's check does.
 */
export async function cacheIsPersistent(patience = 5_000): Promise<boolean> {
  if (typeof indexedDB === 'undefined') return false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), patience);
    });
    const probe = idbStore()
      .keys('checkpoint-tool-probe')
      .then(() => true);
    return await Promise.race([probe, late]);
  } catch {
    return false;
  } finally {
    clearTimeout(timer);
  }
}
