/**
 * The storage interface: where entries live. The core knows only this type; each backend is a
 * file of its own (memory, filesystem, IndexedDB).
 * @module
 */

/**
 * The small metadata of one cached result, kept apart from its value so that a run can decide
 * what is fresh without reading or deserializing any value.
 */
export interface EntryMeta {
  /** Layout version of the entry. */
  readonly format: 1;
  /** The instance's canonical argument key; guards against file-name collisions. */
  readonly key: string;
  /** The task's `version` option when the value was computed. */
  readonly version: string;
  /** A unique stamp of this computation; a recomputation gets a new one. */
  readonly stamp: string;
  /** The stamps of the inputs this value was computed from, in declaration order. */
  readonly inputs: readonly string[];
  /** How the value bytes are encoded: `'zlib'` when the task compresses its output. */
  readonly encoding: 'raw' | 'zlib';
  /** Length of the stored value bytes. */
  readonly size: number;
  /** Length of the value bytes once decompressed, for `'zlib'` entries. */
  readonly rawSize?: number;
  /** When the value was stored (ms since the epoch); informational only, never compared. */
  readonly created: number;
}

/** A stored entry: its metadata and value bytes. */
export interface Entry {
  readonly meta: EntryMeta;
  /**
   * The value bytes, in pieces laid end to end: a large typed array is a piece of its own, written
   * from its own memory rather than copied into one buffer first. A piece may be a view of a larger
   * buffer (a typed array's, or one shared by small values): a store copies what it keeps, and
   * never reads `piece.buffer` without the piece's offset and length.
   */
  readonly value: readonly Uint8Array[];
}

/** What {@link Store.readValue} gives: an entry's metadata, and its value bytes in one piece. */
export interface StoredEntry {
  readonly meta: EntryMeta;
  readonly value: Uint8Array;
}

/**
 * Where results are kept. `folder` is a task's folder name (`namespace.name`), `key` an
 * instance's canonical argument key. Implementations must make `write` atomic: a reader sees the
 * old entry, the new one, or none, never a half-written one.
 */
export interface Store {
  /** Reads an entry's metadata only, or `undefined` when there is none. */
  readMeta(folder: string, key: string): Promise<EntryMeta | undefined>;
  /**
   * Optional: reads the metadata of many entries of one folder at once, as `readMeta` would each,
   * in the order of `keys` (`undefined` where there is none). A store implements it where one
   * batched read costs much less than many single ones, as one IndexedDB transaction does;
   * planning a run uses it when present.
   * @example
   * const [first, second] = await store.readMetas('ns.task', ['[1]', '[2]']);
   */
  readMetas?(folder: string, keys: readonly string[]): Promise<(EntryMeta | undefined)[]>;
  /**
   * Reads an entry's value bytes with its metadata, in one consistent read (the metadata is that
   * of the entry whose value it gives, even while another process or tab replaces the entry), or
   * `undefined` when there is none. A run checks with it that a cached value is still the entry it
   * planned to reuse. Without a transaction, read the value first, then the metadata: a stamp,
   * once replaced, never comes back, so metadata read after the value that still has the planned
   * stamp had it when the value was read.
   */
  readValue(folder: string, key: string): Promise<StoredEntry | undefined>;
  /**
   * Stores an entry, replacing any previous one. The store may keep the entry's objects as they
   * are: the caller hands them over and never changes them afterwards. A store that is done at
   * once may return nothing instead of a promise, sparing a run one promise per entry.
   */
  write(folder: string, key: string, entry: Entry): Promise<void> | void;
  /** Removes one entry; removing a missing entry is not an error. */
  delete(folder: string, key: string): Promise<void>;
  /** Removes every entry of a folder; clearing an empty folder is not an error. */
  clear(folder: string): Promise<void>;
  /** Lists the keys stored in a folder. */
  keys(folder: string): Promise<string[]>;
  /**
   * Optional: takes an exclusive lock on one entry for one `version` of its task (`''`, the
   * default, for a task without one), shared by every process or tab using the same storage, and
   * resolves to the function that releases it. A run holds it while it computes and stores the
   * entry, so that concurrent runs compute each instance once. Locks of different versions are
   * independent: what one version computes is stale for another, so a run never waits for it. A
   * lock whose holder died must not block forever.
   */
  lock?(folder: string, key: string, version?: string): Promise<() => Promise<void>>;
}
