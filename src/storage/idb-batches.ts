/**
 * Gathers IndexedDB reads and writes into shared transactions. Opening a transaction costs far
 * more than a record, so the requests issued in the same tick share one, and those issued while
 * it is in flight share the next.
 * @module
 */
import { promisifyRequest, type UseStore } from 'idb-keyval';

/**
 * Calls `settle` on the items pushed, one batch at a time: the items pushed in the same tick
 * make the first batch, and those pushed while a batch is being settled make the next.
 * `settle` settles every item of its batch and never rejects.
 */
function inTurns<T>(settle: (batch: T[]) => Promise<void>): (item: T) => void {
  const waiting: T[] = [];
  let busy = false;
  const drain = async () => {
    try {
      while (waiting.length > 0) await settle(waiting.splice(0));
    } finally {
      busy = false;
    }
  };
  return (item) => {
    waiting.push(item);
    if (busy) return;
    busy = true;
    queueMicrotask(drain);
  };
}

/** A request waiting for the transaction that will hold it. */
interface Pending<T> {
  readonly records: T;
  readonly done: (values: unknown[]) => void;
  readonly failed: (error: unknown) => void;
}

/**
 * Writes records, each call's records in the same readwrite transaction (atomic together), and
 * resolves only once that transaction has completed. When it fails, every write of it rejects
 * with its error (QuotaExceededError, say): none is ever reported stored that was not.
 */
export function batchedWrites(db: () => UseStore): (records: [IDBValidKey, unknown][]) => Promise<void> {
  const push = inTurns<Pending<[IDBValidKey, unknown][]>>(async (batch) => {
    try {
      await db()('readwrite', (store) => {
        try {
          for (const { records } of batch) for (const [key, value] of records) store.put(value, key);
        } catch (error) {
          // A record that cannot be cloned: nothing of the batch may be committed.
          store.transaction.abort();
          throw error;
        }
        return promisifyRequest(store.transaction);
      });
      for (const write of batch) write.done([]);
    } catch (error) {
      for (const write of batch) write.failed(error);
    }
  });
  return (records) => new Promise((done, failed) => push({ records, done: () => done(), failed }));
}

/**
 * Reads records by key, each call's records in the same readonly transaction (a consistent set),
 * resolving to their values (`undefined` where there is none) as soon as they are read.
 */
export function batchedReads(db: () => UseStore): (keys: IDBValidKey[]) => Promise<unknown[]> {
  const push = inTurns<Pending<IDBValidKey[]>>(async (batch) => {
    try {
      await db()('readonly', (store) =>
        Promise.all(
          batch.map(({ records, done, failed }) =>
            Promise.all(records.map((key) => promisifyRequest(store.get(key)))).then(done, failed),
          ),
        ),
      );
    } catch (error) {
      // The database did not open (settling a read twice changes nothing).
      for (const read of batch) read.failed(error);
    }
  });
  return (keys) => new Promise((done, failed) => push({ records: keys, done, failed }));
}
