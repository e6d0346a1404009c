/**
 * The IndexedDB connection of an `idbStore`: opened on first use with its object store,
 * closed when another tab deletes or upgrades the database, and given up on when the open never
 * answers.
 * @module
 */
import { promisifyRequest, type UseStore } from 'idb-keyval';
import { CheckpointError } from '../errors.js';

/**
 * idb-keyval's `createStore`, except that the connection closes when another tab (or this one)
 * deletes or upgrades the database, which would otherwise wait for as long as this page lives;
 * the next use opens the database again.
 */
export function connect(dbName: string, storeName: string): UseStore {
  let connection: Promise<IDBDatabase> | undefined;
  const open = () => {
    if (connection) return connection;
    const opened = openWithStore(dbName, storeName);
    const forget = () => {
      if (connection === opened) connection = undefined;
    };
    opened.then((database) => {
      database.onclose = forget; // closed by the browser, as when the user clears the site's data
      database.onversionchange = () => {
        database.close();
        forget();
      };
    }, forget);
    connection = opened;
    return opened;
  };
  return async (mode, callback) => {
    let database = await open();
    let transaction: IDBTransaction;
    try {
      transaction = database.transaction(storeName, mode);
    } catch (error) {
      // Closed between opening and now (a versionchange): once more, on a new connection.
      if (!(error instanceof DOMException && error.name === 'InvalidStateError')) throw error;
      database = await open();
      transaction = database.transaction(storeName, mode);
    }
    return callback(transaction.objectStore(storeName));
  };
}

/**
 * Opens the database, with `storeName` in it. A database that exists without that store (made by
 * other code, or by an `idbStore` of another `storeName`) is upgraded to its next version to add
 * it: this library's connections in other tabs close when asked to; a connection of other code
 * that stays open delays the upgrade, with a warning, until it closes.
 */
async function openWithStore(dbName: string, storeName: string): Promise<IDBDatabase> {
  let version: number | undefined;
  for (let attempt = 1; ; attempt++) {
    const request = version === undefined ? indexedDB.open(dbName) : indexedDB.open(dbName, version);
    request.onupgradeneeded = () => {
      if (!request.result.objectStoreNames.contains(storeName)) request.result.createObjectStore(storeName);
    };
    request.onblocked = () => {
      blocked.add(request);
      console.warn(
        `checkpoint-tool: IndexedDB ${dbName} is open elsewhere (another tab, or other code) and not closed when asked to; the object store ${storeName} is added once it is`,
      );
    };
    let database: IDBDatabase;
    try {
      database = await settledInTime(request, dbName);
    } catch (error) {
      // Upgraded past `version` by another tab meanwhile: look again.
      const passed = error instanceof DOMException && error.name === 'VersionError';
      if (!passed || version === undefined || attempt >= 8) throw error;
      version = undefined;
      continue;
    }
    if (database.objectStoreNames.contains(storeName)) return database;
    database.close();
    if (attempt >= 8) {
      throw new CheckpointError(`IndexedDB ${dbName} lost its object store ${storeName} each of 8 times it was added`);
    }
    version = database.version + 1;
  }
}

/** How long an open may go unanswered, unless it is blocked by another connection (it warns then). */
const OPEN_PATIENCE = 10_000;
/** The open requests that another connection blocks: they wait for it as long as it takes. */
const blocked = new WeakSet<IDBOpenDBRequest>();

/**
 * The database an open request gives, or a {@link CheckpointError} if it has not answered within
 * {@link OPEN_PATIENCE} and is not blocked: an open that never settles (as a Safari bug once did)
 * would leave every run waiting for good. The connection is then forgotten, so the next use opens
 * the database again; one that comes late is closed.
 */
function settledInTime(request: IDBOpenDBRequest, dbName: string): Promise<IDBDatabase> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    const check = () => {
      if (blocked.has(request)) timer = setTimeout(check, OPEN_PATIENCE);
      else reject(new CheckpointError(`IndexedDB ${dbName} did not open within ${OPEN_PATIENCE / 1_000} s`));
    };
    timer = setTimeout(check, OPEN_PATIENCE);
  });
  const opened = promisifyRequest(request);
  return Promise.race([opened, late]).then(
    (database) => {
      clearTimeout(timer);
      return database;
    },
    (error: unknown) => {
      clearTimeout(timer);
      opened.then(
        (database) => database.close(),
        () => {},
      );
      throw error;
    },
  );
}
