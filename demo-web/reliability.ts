/**
 * The reliability lab: a page for the browser tests. It runs the store conformance suite on real
 * IndexedDB, and graphs of slow tasks through the public API whose cache other tabs share, a
 * closed tab leaves half written, or the tests evict, damage or fill up. Exposes
 * `window.reliability`.
 * @module
 */
import {
  type Compute,
  idbStore,
  type RunEvent,
  requestPersistentStorage,
  requires,
  type Store,
  storageUsage,
  task,
} from 'checkpoint-tool/browser';
import { damageIdbMeta, storeCases } from '../test-node/store-suite.js';

let delay = 0;
/** Computations wait for it to resolve: the tests hold them until two tabs have planned their runs. */
let gate = Promise.resolve();
let openGate = () => {};
/** Computations of choose(n, k) with n from this on never end: a tab is closed in the middle of them. */
let stallFrom = Number.POSITIVE_INFINITY;

/** choose(n, k) by Pascal's rule, each instance taking `delay` ms (not part of its key). */
const choose = task('choose', (n: number, k: number): Compute<number> => {
  const wait = async () => {
    if (n >= stallFrom) await new Promise(() => {});
    await gate;
    await new Promise<void>((resolve) => setTimeout(resolve, delay));
  };
  if (k === 0 || k === n) {
    return async () => {
      await wait();
      return 1;
    };
  }
  return requires(
    choose(n - 1, k - 1),
    choose(n - 1, k),
  )(async (a, b) => {
    await wait();
    return a + b;
  });
});

/** `size` bytes no compressor can shrink, different for each seed. */
const noise = task('noise', (size: number, seed: number) => () => {
  const bytes = new Uint8Array(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    bytes[i] = x;
  }
  return bytes;
});

/** What a run did, as the tests read it: which instances it computed and which it reused. */
export interface RunReport {
  /** Instances computed and stored by this run. */
  finished: string[];
  /** Instances reused: found fresh when the run was planned, or stored meanwhile by another tab. */
  cached: string[];
  /** Instances found fresh when the run was planned. */
  reused: string[];
  started: string[];
  /** Whether the run has decided what is fresh and begun. */
  planned: boolean;
  done: boolean;
  value?: unknown;
  error?: ErrorReport;
}

/** What to run, and how slowly. */
export interface ChooseOptions {
  dbName: string;
  n: number;
  k: number;
  /** Milliseconds each computation takes. */
  delay: number;
  /** Computations wait for `reliability.release()`. */
  hold?: boolean;
  /** Computations of choose(i, j) with i ≥ this never end. */
  stallFrom?: number;
}

/** A thrown error, flattened so that it crosses to the test. */
export interface ErrorReport {
  name: string;
  message: string;
  task?: string;
  args?: unknown;
  cause?: ErrorReport;
}

function flatten(error: unknown): ErrorReport {
  if (!(error instanceof Error)) return { name: typeof error, message: String(error) };
  const { task: name, args } = error as { task?: string; args?: unknown };
  return {
    name: error.name,
    message: error.message,
    ...(name === undefined ? {} : { task: name, args }),
    ...(error.cause === undefined ? {} : { cause: flatten(error.cause) }),
  };
}

const log = document.getElementById('log') as HTMLOListElement;

const stores = new Map<string, Store>();

/** One store object per database, as an app would have. */
function storeOf(dbName: string): Store {
  let store = stores.get(dbName);
  if (!store) {
    store = idbStore({ dbName });
    stores.set(dbName, store);
  }
  return store;
}

/** The run in progress, or the last one. */
let current: RunReport = { finished: [], cached: [], reused: [], started: [], planned: true, done: true };

async function runAndReport(instance: { run(options: object): Promise<unknown> }, dbName: string): Promise<RunReport> {
  const state: RunReport = { finished: [], cached: [], reused: [], started: [], planned: false, done: false };
  current = state;
  // The planned instances, and those cached when planned, are announced in one synchronous burst.
  let planning = false;
  const onEvent = (event: RunEvent) => {
    if (event.type === 'planned' && !planning) {
      planning = true;
      state.planned = true;
      queueMicrotask(() => {
        planning = false;
      });
    }
    if (event.type === 'cached' && planning) state.reused.push(event.instance.label);
    if (event.type !== 'finished' && event.type !== 'cached' && event.type !== 'started') return;
    state[event.type].push(event.instance.label);
    const item = document.createElement('li');
    item.textContent = `${event.type} ${event.instance.label}`;
    log.append(item);
  };
  try {
    state.value = await instance.run({ store: storeOf(dbName), onEvent });
  } catch (error) {
    state.error = flatten(error);
  }
  state.done = true;
  return state;
}

/** The two IndexedDB records of an instance, as idbStore lays them out. */
const records = (instance: { task: { id: string }; key: string }) => ({
  meta: ['m', instance.task.id, instance.key],
  value: ['v', instance.task.id, instance.key],
});

/**
 * In one read-write transaction on the store's records, straight through IndexedDB: the
 * connection is closed after, so that it never delays deleting the database.
 */
function inDatabase(dbName: string, change: (store: IDBObjectStore) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open(dbName);
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const database = request.result;
      const transaction = database.transaction('entries', 'readwrite');
      change(transaction.objectStore('entries'));
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

/** Kinds of garbage written over an entry's value record, or over its metadata record (`meta-`). */
export type Damage = 'text' | 'random-bytes' | 'truncated' | 'same-length-random' | 'meta-text' | 'meta-partial';

let suiteLocations = 0;

const reliability = {
  storeCaseNames: storeCases.map((storeCase) => storeCase.name),
  /** Whether idbStore takes Web Locks here (the suite's lock case needs them to test anything). */
  storeHasLock: typeof idbStore({ dbName: 'never-opened' }).lock === 'function',

  /** Runs one case of the store conformance suite on a fresh IndexedDB database. */
  async storeCase(name: string): Promise<{ error?: string }> {
    const storeCase = storeCases.find((candidate) => candidate.name === name);
    if (!storeCase) return { error: `no store case named ${JSON.stringify(name)} in the page` };
    const dbName = `suite-${Date.now()}-${suiteLocations++}`;
    try {
      await storeCase.run(Object.assign(() => idbStore({ dbName }), { damageMeta: damageIdbMeta(dbName) }));
      return {};
    } catch (error) {
      return { error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    } finally {
      indexedDB.deleteDatabase(dbName);
    }
  },

  /**
   * Runs choose(n, k) on the database `dbName`, each instance taking `delay` ms; with `hold`, no
   * computation starts before {@link reliability.release}; from row `stallFrom` on, none ends.
   */
  choose(options: ChooseOptions): Promise<RunReport> {
    delay = options.delay;
    stallFrom = options.stallFrom ?? Number.POSITIVE_INFINITY;
    if (options.hold) gate = new Promise((resolve) => (openGate = resolve));
    return runAndReport(choose(options.n, options.k), options.dbName);
  },

  /** Runs noise(size, seed): a value of `size` bytes that does not compress. */
  noise(options: { dbName: string; size: number; seed: number }): Promise<RunReport> {
    return runAndReport(noise(options.size, options.seed), options.dbName);
  },

  /** Lets the computations held by `hold` go. */
  release(): void {
    openGate();
  },

  /** The run in progress, or the last one. */
  progress: (): RunReport => current,

  /** Deletes the records of choose(n, k): `'both'` as eviction would, or only its value. */
  evict(dbName: string, [n, k]: readonly [number, number], which: 'both' | 'value'): Promise<void> {
    const { meta, value } = records(choose(n, k));
    return inDatabase(dbName, (store) => {
      if (which === 'both') store.delete(meta);
      store.delete(value);
    });
  },

  /** Writes garbage over a record of choose(n, k), as other code using the database might. */
  damage(dbName: string, [n, k]: readonly [number, number], damage: Damage): Promise<void> {
    const { meta, value } = records(choose(n, k));
    const random = (length: number) => crypto.getRandomValues(new Uint8Array(length));
    return inDatabase(dbName, (store) => {
      const request = store.get(value);
      request.onsuccess = () => {
        const stored = new Uint8Array(request.result as ArrayBuffer | Uint8Array);
        if (damage === 'text') store.put('garbage', value);
        else if (damage === 'random-bytes') store.put(random(stored.length + 37), value);
        else if (damage === 'truncated') store.put(stored.slice(0, Math.floor(stored.length / 2)), value);
        else if (damage === 'same-length-random') store.put(random(stored.length), value);
        else if (damage === 'meta-text') store.put('garbage', meta);
        else store.put({ format: 1, version: '', inputs: null }, meta);
      };
    });
  },

  /**
   * Deletes the whole database, as a page resetting its cache would; it fails if a connection
   * (the page's idbStore, say) stays open and blocks it.
   */
  deleteDatabase(dbName: string): Promise<void> {
    return new Promise((resolve, reject) => {
      const request = indexedDB.deleteDatabase(dbName);
      request.onsuccess = () => resolve();
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error(`deleting ${dbName} is blocked by an open connection`));
    });
  },

  requestPersistentStorage,
  storageUsage,
};

declare global {
  interface Window {
    reliability: typeof reliability;
  }
}
window.reliability = reliability;
document.body.dataset.ready = 'true';
