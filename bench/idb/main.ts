/**
 * The IndexedDB benchmark page: runs graphs with `idbStore` and, as the baseline, writes and reads
 * the very records the store wrote with idb-keyval's `setMany` and `getMany`. bench/idb.ts drives
 * it through `window.bench`, one fresh page load per measurement.
 * @module
 */
import { idbStore } from 'checkpoint-tool/browser';
import { createStore, entries, getMany, keys, setMany } from 'idb-keyval';
import { type GraphName, makeGraph } from '../graphs.js';

const storeName = 'entries';

const bench = {
  /** Runs a graph with the IndexedDB store in database `dbName`. */
  async run(graph: GraphName, size: number, dbName: string) {
    const { root } = makeGraph(graph, size);
    let computed = 0;
    const start = performance.now();
    const value = await root.run({
      store: idbStore({ dbName, storeName }),
      onEvent: (event) => {
        if (event.type === 'finished') computed++;
      },
    });
    return { ms: performance.now() - start, value, computed };
  },

  /** Copies every record of database `from` into database `to` with one `setMany`; times the copy only. */
  async setMany(from: string, to: string) {
    const records = await entries(createStore(from, storeName));
    const start = performance.now();
    await setMany(records, createStore(to, storeName));
    return { ms: performance.now() - start, records: records.length };
  },

  /** Reads every record of database `from` (the keys, listed untimed from `keysFrom`) with one `getMany`. */
  async getMany(from: string, keysFrom: string) {
    const listed = await keys(createStore(keysFrom, storeName));
    const start = performance.now();
    const values = await getMany(listed, createStore(from, storeName));
    const ms = performance.now() - start;
    if (values.some((value) => value === undefined)) throw new Error(`${from}: a record is missing`);
    return { ms, records: values.length };
  },

  /** Deletes databases. */
  async drop(...names: string[]) {
    await Promise.all(
      names.map(
        (name) =>
          new Promise((resolve, reject) => {
            const request = indexedDB.deleteDatabase(name);
            request.onsuccess = resolve;
            request.onerror = () => reject(request.error);
          }),
      ),
    );
  },
};

declare global {
  interface Window {
    bench: typeof bench;
  }
}

window.bench = bench;
