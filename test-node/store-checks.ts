/**
 * What the store conformance suite's cases share: the store under test's types, the entries they
 * write and the checks they make. Platform-neutral, as the suite is (see `store-suite.ts`).
 * @module
 */
import type { Entry, EntryMeta, Store } from 'checkpoint-tool';

/**
 * Opens the store under test. Each call of a {@link MakeStore} gives a fresh, empty location; each
 * call of the `OpenStore` it returns gives a store object over that same location (a second
 * process or tab, as it were). Where the test can reach the storage beneath, `damageMeta` writes
 * `record` over an entry's metadata, as other code or a damaged disk might.
 */
export type OpenStore = (() => Store) & {
  readonly damageMeta?: (folder: string, key: string, record: unknown) => Promise<void>;
};

/** Makes a fresh, empty store location for one case. */
export type MakeStore = () => OpenStore | Promise<OpenStore>;

/** One case of the suite. */
export interface StoreCase {
  readonly name: string;
  run(open: OpenStore): Promise<void>;
}

/** Keys that must work like any other: path syntax, unicode, very long, prototype names. */
export const oddKeys: readonly string[] = [
  '',
  'a/b',
  '../../escape',
  '..',
  '.',
  '/',
  'a\\b',
  'C:\\x',
  'nul\u0000byte',
  'ünïcødé ✓ 🧪 \ud800',
  'x'.repeat(10_000),
  '__proto__',
  'constructor',
  'hasOwnProperty',
  'CON',
  'a.entry',
  'b.tmp',
  '[{"json":"key"},1]',
];

/**
 * An entry whose metadata says what it holds, with `bytes` as value: in two pieces when it has
 * more than 5 bytes, as values with large typed arrays are handed to stores.
 */
export function entryOf(key: string, bytes: Uint8Array, extra: Partial<EntryMeta> = {}): Entry {
  const meta: EntryMeta = {
    format: 1,
    key,
    version: '',
    stamp: `stamp-${key.length}-${bytes.length}`,
    inputs: [],
    encoding: 'raw',
    size: bytes.length,
    created: 1_700_000_000_000,
    ...extra,
  };
  return { meta, value: bytes.length > 5 ? [bytes.subarray(0, 5), bytes.subarray(5)] : [bytes] };
}

/** An entry's value bytes as one array. */
export function entryBytes(entry: Entry): Uint8Array {
  const joined = new Uint8Array(entry.value.reduce((length, piece) => length + piece.length, 0));
  let offset = 0;
  for (const piece of entry.value) {
    joined.set(piece, offset);
    offset += piece.length;
  }
  return joined;
}

/** Distinct bytes for a label, of a given length. */
export function bytesOf(label: string, length = 16 + (label.length % 40)): Uint8Array {
  const bytes = new Uint8Array(length);
  let h = 2166136261;
  for (const char of label) h = Math.imul(h ^ (char.codePointAt(0) ?? 0), 16777619);
  for (let i = 0; i < length; i++) {
    h = Math.imul(h ^ i, 16777619);
    bytes[i] = h >>> 24;
  }
  return bytes;
}

/** Throws unless `actual` and `expected` are deeply equal (plain objects, arrays, byte arrays). */
export function expectEqual(actual: unknown, expected: unknown, what: string): void {
  const difference = differ(actual, expected, what);
  if (difference) throw new Error(difference);
}

function differ(actual: unknown, expected: unknown, path: string): string | undefined {
  if (Object.is(actual, expected)) return undefined;
  const mismatch = `${path}: expected ${show(expected)}, got ${show(actual)}`;
  if (typeof actual !== 'object' || typeof expected !== 'object' || actual === null || expected === null) {
    return mismatch;
  }
  if (expected instanceof Uint8Array) {
    if (!(actual instanceof Uint8Array) || actual.length !== expected.length) return mismatch;
    const at = expected.findIndex((byte, i) => actual[i] !== byte);
    return at === -1 ? undefined : `${path}: bytes differ at ${at} of ${expected.length}`;
  }
  if (Array.isArray(expected) !== Array.isArray(actual)) return mismatch;
  const keys = Object.keys(expected);
  if (keys.length !== Object.keys(actual).length) return mismatch;
  for (const key of keys) {
    const difference = differ(
      (actual as Record<string, unknown>)[key],
      (expected as Record<string, unknown>)[key],
      `${path}.${key}`,
    );
    if (difference) return difference;
  }
  return undefined;
}

/** A value as a failure message shows it, long ones cut. */
export function show(value: unknown): string {
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text && text.length > 200 ? `${text.slice(0, 200)}...` : String(text);
}

/** Throws unless the store holds `entry` in `folder`: its metadata, and its value as a plain Uint8Array. */
export async function expectEntry(store: Store, folder: string, entry: Entry, what: string): Promise<void> {
  expectEqual(await store.readMeta(folder, entry.meta.key), entry.meta, `${what}: readMeta`);
  const read = await store.readValue(folder, entry.meta.key);
  expectEqual(read?.meta, entry.meta, `${what}: readValue's meta`);
  const value = read?.value;
  expectEqual(value, entryBytes(entry), `${what}: readValue`);
  // Not a subclass such as Node's Buffer, whose slice() is a view rather than a copy.
  expectEqual(value && Object.getPrototypeOf(value) === Uint8Array.prototype, true, `${what}: a plain Uint8Array`);
}

/** Throws unless the store has neither metadata nor value for `key` in `folder`. */
export async function expectNone(store: Store, folder: string, key: string, what: string): Promise<void> {
  expectEqual(await store.readMeta(folder, key), undefined, `${what}: readMeta`);
  expectEqual((await store.readValue(folder, key))?.value, undefined, `${what}: readValue`);
}

/** Throws unless `keys(folder)` lists exactly `keys`, in any order. */
export async function expectKeys(store: Store, folder: string, keys: readonly string[], what: string): Promise<void> {
  const listed = await store.keys(folder);
  expectEqual([...listed].sort(), [...keys].sort(), `${what}: keys(${JSON.stringify(folder)})`);
}

/** The cases, in order. Each gets a fresh, empty location. */
