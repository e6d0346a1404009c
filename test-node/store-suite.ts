/**
 * The conformance suite every store passes, in the manner of unstorage's `testDriver`. The cases
 * are platform-neutral (no Node.js import; fast-check runs anywhere), so that a browser test can run the same `storeCases`
 * inside a page on real IndexedDB; `testStore` registers them with a `describe`/`test` pair such
 * as `node:test`'s. The cases live by topic in `store-suite-*.ts`, their shared checks in
 * `store-checks.ts`; `storeCases` lists them all, in order.
 * @module
 */
import type { MakeStore, StoreCase } from './store-checks.js';
import { basicCases } from './store-suite-basics.js';
import { concurrentCases } from './store-suite-concurrent.js';
import { modelCases } from './store-suite-model.js';
import { readMetasCases } from './store-suite-read-metas.js';

/** `damageMeta` for an `idbStore({ dbName, storeName })` location, through IndexedDB itself. */
export function damageIdbMeta(
  dbName: string,
  storeName = 'entries',
): (folder: string, key: string, record: unknown) => Promise<void> {
  return (folder, key, record) =>
    new Promise((resolve, reject) => {
      const request = indexedDB.open(dbName);
      request.onupgradeneeded = () => request.result.createObjectStore(storeName);
      request.onerror = () => reject(request.error);
      request.onsuccess = () => {
        const database = request.result;
        const transaction = database.transaction(storeName, 'readwrite');
        transaction.objectStore(storeName).put(record, ['m', folder, key]);
        transaction.oncomplete = () => {
          database.close();
          resolve();
        };
        transaction.onabort = () => {
          database.close();
          reject(transaction.error);
        };
      };
    });
}

/** The cases, in order. Each gets a fresh, empty location. */
export const storeCases: readonly StoreCase[] = [...basicCases, ...concurrentCases, ...readMetasCases, ...modelCases];

/** Registers every case as a test, each on a fresh location, under `describe(name)`. */
export function testStore(
  name: string,
  makeStore: MakeStore,
  runner: { describe(name: string, fn: () => void): unknown; test(name: string, fn: () => Promise<void>): unknown },
): void {
  runner.describe(`store conformance: ${name}`, () => {
    for (const storeCase of storeCases) {
      runner.test(storeCase.name, async () => storeCase.run(await makeStore()));
    }
  });
}

/** Runs every case, for a page that has no test runner; resolves to the failures by case name. */
export async function runStoreCases(makeStore: MakeStore): Promise<{ name: string; error?: string }[]> {
  const results: { name: string; error?: string }[] = [];
  for (const storeCase of storeCases) {
    try {
      await storeCase.run(await makeStore());
      results.push({ name: storeCase.name });
    } catch (error) {
      results.push({ name: storeCase.name, error: String(error) });
    }
  }
  return results;
}
