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
 * resolves only once that transaction has completed. When a shared transaction fails, each of its
 * writes is tried again in a transaction of its own, so that a record the browser refuses (too
 * large, over quota) fails its own write only; a write rejects with the browser's reason, and none
 * is ever reported stored that was not.
 */
export function batchedWrites(db: () => UseStore): (records: [IDBValidKey, unknown][]) => Promise<void> {
  const push = inTurns<Pending<[IDBValidKey, unknown][]>>(async (batch) => {
    const [only] = batch;
    try {
      await putAll(db, only && batch.length === 1 ? only.records : batch.flatMap((write) => write.records));
      for (const write of batch) write.done([]);
    } catch (error) {
      if (only && batch.length === 1) return only.failed(error);
      await Promise.all(batch.map((write) => putAll(db, write.records).then(() => write.done([]), write.failed)));
    }
  });
  return (records) => new Promise((done, failed) => push({ records, done: () => done(), failed }));
}

/**
 * Puts records in one readwrite transaction, resolving once it has completed, else rejecting with
 * the reason: the transaction's own error when the browser aborted it (a record too large stops
 * it at its `put`, and the next `put` then only throws TransactionInactiveError).
 */
function putAll(db: () => UseStore, records: [IDBValidKey, unknown][]): Promise<void> {
  return db()('readwrite', (store) => {
    const transaction = store.transaction;
    const completed = promisifyRequest(transaction);
    try {
      for (const [key, value] of records) store.put(value, key);
    } catch (error) {
      // A record that cannot be cloned: nothing may be committed (abort() throws if it is over).
      try {
        transaction.abort();
      } catch {}
      return completed.then(
        () => Promise.reject(error),
        () => Promise.reject(transaction.error ?? error),
      );
    }
    return completed;
  });
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
