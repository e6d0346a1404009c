import { delMany, promisifyRequest, type UseStore } from 'idb-keyval';
import { describe } from '../errors.js';
import { checkOption, checkOptionNames, isString } from '../options.js';
import { crc32 } from './crc32.js';
import { batchedReads, batchedWrites } from './idb-batches.js';
import { connect } from './idb-connection.js';
import { joinPieces } from './pieces.js';
import type { EntryMeta, Store, StoredEntry } from './types.js';

/**
 * A value record larger than this is stored as a `Blob` of the same bytes: Chromium refuses a
 * record over about 127 MiB (133,169,152 serialized bytes, key included) but keeps a Blob's bytes
 * apart, as large as the quota allows, and a Blob is made from the value's pieces, without first
 * copying them into one buffer. Smaller records stay bytes, as some browsers refuse Blobs in
 * IndexedDB (Safari's private windows).
 */
const BLOB_OVER = 120 * 2 ** 20;

/** Whether this page has warned that Web Locks are missing. */
let warnedNoLocks = false;

/** Options of {@link idbStore}. */
export interface IdbStoreOptions {
  /**
   * Name of the IndexedDB database.
   * @default 'checkpoint'
   */
  dbName?: string | undefined;
  /**
   * Name of the object store in that database.
   * @default 'entries'
   */
  storeName?: string | undefined;
}

/**
 * A store in IndexedDB (through idb-keyval), for browsers. Each entry is two records, its
 * metadata under `['m', folder, key]` and its value under `['v', folder, key]`, written in one
 * transaction so that a closed tab never leaves one without the other. Reads issued together, or
 * while a read is in flight, share one transaction, and so do writes: a transaction costs far
 * more than a record. A write resolves once its transaction has completed. The database is opened on
 * first use, and closed when another tab deletes or upgrades it. An entry whose records do not
 * match (written by other code, or half evicted) is reported with a warning and removed, so it is
 * computed again. Where the Web Locks API exists (secure contexts: https, localhost), tabs running
 * the same graph compute each instance once; elsewhere it warns once, as tabs may then compute an
 * instance each. A database that exists without the object store is upgraded to add it.
 * A value is copied into one record with its checksum; one over 120 MiB is stored as a `Blob`
 * instead, so values larger than Chromium's largest record (about 127 MiB) are stored too.
 */
export function idbStore(options: IdbStoreOptions = {}): Store {
  // From JavaScript, a misspelt option would open another database without a word.
  const given = checkOptionNames('idbStore()', options, ['dbName', 'storeName'], 'dbName');
  for (const name of ['dbName', 'storeName']) checkOption('idbStore()', name, given[name], 'a string', isString);

  const dbName = options.dbName ?? 'checkpoint';
  const storeName = options.storeName ?? 'entries';
  let database: UseStore | undefined;
  const db = () => {
    if (!database) warnIfNoLocks();
    database ??= connect(dbName, storeName);
    return database;
  };
  // Array keys sort after strings, so [kind, folder, []] bounds every [kind, folder, key].
  const range = (kind: string, folder: string) => IDBKeyRange.bound([kind, folder], [kind, folder, []]);
  const lockPrefix = `checkpoint-tool:${dbName}/${storeName}:`;
  const remove = (folder: string, key: string) =>
    delMany(
      [
        ['m', folder, key],
        ['v', folder, key],
      ],
      db(),
    );
  const warn = (folder: string, key: string, reason: string) =>
    console.warn(
      `checkpoint-tool: damaged cache entry ${folder}(${key.slice(1, -1)}) in IndexedDB ${dbName} (${reason}); it will be recomputed`,
    );
  const damaged = async (folder: string, key: string, reason: string): Promise<undefined> => {
    warn(folder, key, reason);
    await remove(folder, key);
    return undefined;
  };
  const read = batchedReads(db);
  const write = batchedWrites(db);
  /** An entry's metadata and value: both records in one transaction, a consistent pair even while another tab rewrites it. */
  const readValue = async (folder: string, key: string): Promise<StoredEntry | undefined> => {
    const [meta, value] = await read([
      ['m', folder, key],
      ['v', folder, key],
    ]);
    if (meta === undefined && value === undefined) return undefined;
    let record = value instanceof ArrayBuffer ? new Uint8Array(value) : value;
    if (value instanceof Blob) {
      try {
        record = new Uint8Array(await value.arrayBuffer());
      } catch (error) {
        // Its bytes are gone (the site's data cleared meanwhile, say): no entry any more.
        return damaged(folder, key, `its value could not be read: ${describe(error)}`);
      }
    }
    const problem = mismatch(meta, key, record);
    if (problem) return damaged(folder, key, problem);
    const checked = meta as EntryMeta;
    return { meta: checked, value: (record as Uint8Array).subarray(0, checked.size) };
  };
  return {
    // Web Locks are shared by every tab and worker of the origin, and released when a tab closes.
    // Per version, the name of earlier releases without one. A key's text ends with `]` and a
    // version's JSON with an unescaped `"`, so no two folder, key and version share a name.
    lock: globalThis.navigator?.locks
      ? (folder, key, version = '') =>
          webLock(`${lockPrefix}${folder}:${key}${version === '' ? '' : `:${JSON.stringify(version)}`}`)
      : undefined,
    async readMeta(folder, key) {
      const [meta] = await read([['m', folder, key]]);
      if (meta === undefined) return undefined;
      return isMeta(meta, key) ? meta : damaged(folder, key, 'metadata of another format');
    },
    async readMetas(folder, keys) {
      if (keys.length === 0) return [];
      // A transaction of at most 1,000 reads at a time: bounded, however large the folder.
      const records: unknown[] = [];
      for (let start = 0; start < keys.length; start += 1_000) {
        records.push(...(await read(keys.slice(start, start + 1_000).map((key) => ['m', folder, key]))));
      }
      const unusable = new Set<string>();
      const metas = records.map((meta, i) => {
        const key = keys[i] as string;
        if (meta === undefined || isMeta(meta, key)) return meta;
        unusable.add(key);
        return undefined;
      });
      if (unusable.size > 0) {
        for (const key of unusable) warn(folder, key, 'metadata of another format');
        await delMany(
          [...unusable].flatMap((key) => [
            ['m', folder, key],
            ['v', folder, key],
          ]),
          db(),
        );
      }
      return metas;
    },
    readValue,
    write(folder, key, { meta, value }) {
      // The value record is the bytes, then their CRC-32 (4 bytes, little-endian), joined in a
      // buffer of their own (IndexedDB would clone a view's whole buffer), or in a Blob when large.
      let checksum = 0;
      for (const piece of value) checksum = crc32(piece, checksum);
      const trailer = new Uint8Array(4);
      new DataView(trailer.buffer).setUint32(0, checksum, true);
      const pieces = [...value, trailer];
      const record = meta.size + 4 > BLOB_OVER ? blobOf(pieces) : joinPieces(pieces);
      return write([
        [['v', folder, key], record],
        [['m', folder, key], meta],
      ]);
    },
    delete: remove,
    clear(folder) {
      return db()('readwrite', (store) => {
        store.delete(range('m', folder));
        store.delete(range('v', folder));
        return promisifyRequest(store.transaction);
      });
    },
    keys(folder) {
      return db()('readonly', async (store) => {
        const keys = await promisifyRequest(store.getAllKeys(range('m', folder)));
        return keys.map((key) => (key as [string, string, string])[2]);
      });
    },
  };
}

/** Warns, once per page, where tabs cannot share the work: no Web Locks outside secure contexts. */
function warnIfNoLocks(): void {
  // Browsers only (Node has no isSecureContext, and no tabs).
  if (globalThis.navigator?.locks || typeof globalThis.isSecureContext !== 'boolean' || warnedNoLocks) return;
  warnedNoLocks = true;
  const why = globalThis.isSecureContext
    ? 'in this browser'
    : '(it exists only in secure contexts: https, or localhost)';
  console.warn(
    `checkpoint-tool: the Web Locks API is unavailable ${why}, so tabs running the same graph at once may each compute the same instances`,
  );
}

/** The pieces as one Blob. A Blob takes no view of shared memory, nor of a resizable buffer: such a piece is copied. */
function blobOf(pieces: readonly Uint8Array[]): Blob {
  return new Blob(
    pieces.map(
      (piece) =>
        (piece.buffer instanceof ArrayBuffer && !(piece.buffer as { resizable?: boolean }).resizable
          ? piece
          : piece.slice()) as Uint8Array<ArrayBuffer>,
    ),
  );
}

/** Whether a metadata record is an {@link EntryMeta} of this library for `key`. */
function isMeta(meta: unknown, key: string): meta is EntryMeta {
  const m = meta as Partial<EntryMeta> | null;
  return (
    typeof m === 'object' &&
    m !== null &&
    m.format === 1 &&
    m.key === key &&
    typeof m.version === 'string' &&
    typeof m.stamp === 'string' &&
    Array.isArray(m.inputs) &&
    m.inputs.every((stamp) => typeof stamp === 'string') &&
    (m.encoding === 'raw' || m.encoding === 'zlib') &&
    Number.isInteger(m.size) &&
    (m.size as number) >= 0
  );
}

/** Why the two records of an entry are not a whole entry for `key`, if they are not. */
function mismatch(meta: unknown, key: string, value: unknown): string | undefined {
  if (meta === undefined) return 'a value without metadata';
  if (!isMeta(meta, key)) return 'metadata of another format';
  if (value === undefined) return 'metadata without its value';
  if (!(value instanceof Uint8Array)) return `a value that is not bytes (${typeof value})`;
  if (value.length !== meta.size + 4) return `${value.length} value bytes instead of ${meta.size + 4}`;
  const recorded = new DataView(value.buffer, value.byteOffset + meta.size, 4).getUint32(0, true);
  if (crc32(value.subarray(0, meta.size)) !== recorded) return 'value checksum mismatch';
  return undefined;
}

/** Takes the Web Lock of that name, resolving to the function that releases it. */
function webLock(name: string): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    navigator.locks.request(name, () => new Promise<void>((release) => resolve(async () => release()))).catch(reject);
  });
}
