/**
 * The conformance suite every store passes, in the manner of unstorage's `testDriver`. The cases
 * are platform-neutral (no Node.js import; fast-check runs anywhere), so that a browser test can run the same `storeCases`
 * inside a page on real IndexedDB; `testStore` registers them with a `describe`/`test` pair such
 * as `node:test`'s.
 * @module
 */
import type { Entry, EntryMeta, Store } from 'checkpoint-tool';
import fc from 'fast-check';

/**
 * Opens the store under test. Each call of a {@link MakeStore} gives a fresh, empty location; each
 * call of the `OpenStore` it returns gives a store object over that same location (a second
 * process or tab, as it were). Where the test can reach the storage beneath, `damageMeta` writes
 * `record` over an entry's metadata, as other code or a damaged disk might.
 */
export type OpenStore = (() => Store) & {
  readonly damageMeta?: (folder: string, key: string, record: unknown) => Promise<void>;
};

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

function show(value: unknown): string {
  if (value instanceof Uint8Array) return `Uint8Array(${value.length})`;
  const text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  return text && text.length > 200 ? `${text.slice(0, 200)}...` : String(text);
}

async function expectEntry(store: Store, folder: string, entry: Entry, what: string): Promise<void> {
  expectEqual(await store.readMeta(folder, entry.meta.key), entry.meta, `${what}: readMeta`);
  const value = await store.readValue(folder, entry.meta.key);
  expectEqual(value, entryBytes(entry), `${what}: readValue`);
  // Not a subclass such as Node's Buffer, whose slice() is a view rather than a copy.
  expectEqual(value && Object.getPrototypeOf(value) === Uint8Array.prototype, true, `${what}: a plain Uint8Array`);
}

async function expectNone(store: Store, folder: string, key: string, what: string): Promise<void> {
  expectEqual(await store.readMeta(folder, key), undefined, `${what}: readMeta`);
  expectEqual(await store.readValue(folder, key), undefined, `${what}: readValue`);
}

async function expectKeys(store: Store, folder: string, keys: readonly string[], what: string): Promise<void> {
  const listed = await store.keys(folder);
  expectEqual([...listed].sort(), [...keys].sort(), `${what}: keys(${JSON.stringify(folder)})`);
}

/** The cases, in order. Each gets a fresh, empty location. */
export const storeCases: readonly StoreCase[] = [
  {
    name: 'an empty store has no entries, and deleting or clearing what is missing is fine',
    async run(open) {
      const store = open();
      await expectNone(store, 'task', '[1]', 'missing entry');
      await expectKeys(store, 'task', [], 'missing folder');
      await store.delete('task', '[1]');
      await store.clear('task');
      await expectKeys(store, 'task', [], 'after deleting and clearing nothing');
    },
  },
  {
    name: 'write then read gives back the metadata and the exact bytes, and keys lists it',
    async run(open) {
      const store = open();
      const everyByte = Uint8Array.from({ length: 512 }, (_, i) => i % 256);
      const entries = [
        entryOf('[1]', everyByte, { encoding: 'zlib', inputs: ['s1', 's2'], version: 'v2', stamp: 'abc' }),
        entryOf('[2]', new Uint8Array(0)),
        entryOf('[3]', bytesOf('large', 1 << 20)),
        // Metadata far larger than a first read of the header would take in.
        entryOf('[4]', bytesOf('many inputs'), { inputs: Array.from({ length: 5000 }, (_, i) => `input-${i}`) }),
      ];
      for (const entry of entries) await store.write('task', entry.meta.key, entry);
      for (const entry of entries) await expectEntry(store, 'task', entry, entry.meta.key);
      await expectKeys(store, 'task', ['[1]', '[2]', '[3]', '[4]'], 'after four writes');
    },
  },
  {
    name: 'a second store object over the same location sees the same entries',
    async run(open) {
      const entry = entryOf('[1]', bytesOf('shared'));
      await open().write('task', '[1]', entry);
      await expectEntry(open(), 'task', entry, 'through another store object');
      await expectKeys(open(), 'task', ['[1]'], 'through another store object');
    },
  },
  {
    name: 'overwriting replaces metadata and value, also with a shorter value',
    async run(open) {
      const store = open();
      await store.write('task', '[1]', entryOf('[1]', bytesOf('long', 4096), { stamp: 'first' }));
      const second = entryOf('[1]', bytesOf('short', 3), { stamp: 'second', version: '2' });
      await store.write('task', '[1]', second);
      await expectEntry(store, 'task', second, 'after overwrite');
      await expectKeys(store, 'task', ['[1]'], 'after overwrite');
    },
  },
  {
    name: 'delete removes one entry only, and deleting it again is fine',
    async run(open) {
      const store = open();
      const kept = entryOf('[2]', bytesOf('kept'));
      await store.write('task', '[1]', entryOf('[1]', bytesOf('gone')));
      await store.write('task', '[2]', kept);
      await store.delete('task', '[1]');
      await store.delete('task', '[1]');
      await expectNone(store, 'task', '[1]', 'deleted entry');
      await expectEntry(store, 'task', kept, 'the other entry');
      await expectKeys(store, 'task', ['[2]'], 'after delete');
    },
  },
  {
    name: 'clear empties one folder only; the folder can be written again',
    async run(open) {
      const store = open();
      const other = entryOf('[1]', bytesOf('other folder'));
      await store.write('task', '[1]', entryOf('[1]', bytesOf('a')));
      await store.write('task', '[2]', entryOf('[2]', bytesOf('b')));
      await store.write('ns.task', '[1]', other);
      await store.clear('task');
      await expectKeys(store, 'task', [], 'cleared folder');
      await expectNone(store, 'task', '[1]', 'cleared entry');
      await expectEntry(store, 'ns.task', other, 'the other folder');
      await store.clear('task');
      const again = entryOf('[3]', bytesOf('again'));
      await store.write('task', '[3]', again);
      await expectEntry(store, 'task', again, 'written after clear');
    },
  },
  {
    name: 'a folder cleared through another store object can still be written through the first',
    async run(open) {
      const first = open();
      await first.write('task', '[1]', entryOf('[1]', bytesOf('before')));
      await open().clear('task');
      const after = entryOf('[2]', bytesOf('after'));
      await first.write('task', '[2]', after);
      await expectEntry(open(), 'task', after, 'written after a clear elsewhere');
      await expectKeys(first, 'task', ['[2]'], 'after a clear elsewhere');
      if (first.lock) {
        await open().clear('task');
        await (await first.lock('task', '[3]'))();
      }
    },
  },
  {
    name: 'folders are independent, including folders whose names are prefixes of others',
    async run(open) {
      const store = open();
      const folders = ['a', 'a.b', 'ab', 'a-b', 'b'];
      for (const folder of folders) await store.write(folder, '[1]', entryOf('[1]', bytesOf(folder)));
      await store.write('a', '[2]', entryOf('[2]', bytesOf('a2')));
      for (const folder of folders) {
        await expectEntry(store, folder, entryOf('[1]', bytesOf(folder)), `folder ${folder}`);
        await expectKeys(store, folder, folder === 'a' ? ['[1]', '[2]'] : ['[1]'], `folder ${folder}`);
      }
      await store.delete('a', '[1]');
      await expectEntry(store, 'a.b', entryOf('[1]', bytesOf('a.b')), 'a sibling after delete');
      await store.clear('a');
      for (const folder of folders.slice(1)) {
        await expectEntry(store, folder, entryOf('[1]', bytesOf(folder)), `folder ${folder} after clearing a`);
      }
    },
  },
  {
    name: 'keys with slashes, dots, unicode, NUL, 10,000 characters or prototype names are ordinary keys',
    async run(open) {
      const store = open();
      for (const key of oddKeys) await store.write('task', key, entryOf(key, bytesOf(key)));
      for (const key of oddKeys) await expectEntry(store, 'task', entryOf(key, bytesOf(key)), `key ${show(key)}`);
      await expectKeys(store, 'task', oddKeys, 'odd keys');
      await expectKeys(store, 'escape', [], 'a folder named in a key');
      for (const key of oddKeys.slice(0, 9)) await store.delete('task', key);
      await expectKeys(store, 'task', oddKeys.slice(9), 'after deleting some odd keys');
    },
  },
  {
    name: 'read bytes are a copy: changing what was read does not change the entry',
    async run(open) {
      const store = open();
      const written = bytesOf('original');
      const expected = written.slice();
      // A view into a larger buffer, as a value that was sliced out of something else.
      const backing = new Uint8Array(written.length + 16);
      backing.set(written, 8);
      const view = backing.subarray(8, 8 + written.length);
      // A writer hands its bytes over (Store.write), so only reads need to be copies.
      await store.write('task', '[1]', entryOf('[1]', view));
      const read = await store.readValue('task', '[1]');
      expectEqual(read, expected, 'as written');
      read?.fill(1);
      expectEqual(await store.readValue('task', '[1]'), expected, 'after changing the read bytes');
      const meta = await store.readMeta('task', '[1]');
      try {
        (meta?.inputs as string[] | undefined)?.push('x');
      } catch {
        // Frozen metadata refuses the change, which is as good as a copy.
      }
      expectEqual((await store.readMeta('task', '[1]'))?.inputs, [], 'after changing the read metadata');
    },
  },
  {
    name: 'concurrent writes of different keys all land; of one key, one whole entry wins',
    async run(open) {
      const store = open();
      const keys = Array.from({ length: 40 }, (_, i) => `[${i}]`);
      await Promise.all(keys.map((key) => store.write('task', key, entryOf(key, bytesOf(key)))));
      await expectKeys(store, 'task', keys, 'after concurrent writes');
      const rivals = Array.from({ length: 10 }, (_, i) => entryOf('[0]', bytesOf(`rival ${i}`, 1000 + i)));
      await Promise.all(rivals.map((entry) => store.write('task', '[0]', entry)));
      const meta = await store.readMeta('task', '[0]');
      const winner = rivals.find((entry) => entry.meta.size === meta?.size);
      if (!winner) throw new Error(`no rival has the size ${meta?.size}`);
      await expectEntry(store, 'task', winner, 'the winning write');
    },
  },
  {
    name: 'concurrent writes with one that cannot be stored: none is reported stored that is not',
    async run(open) {
      const store = open();
      await store.write('task', '[0]', entryOf('[0]', bytesOf('before')));
      const keys = Array.from({ length: 20 }, (_, i) => `[${i}]`);
      const entries = keys.map((key) => entryOf(key, bytesOf(`batch ${key}`)));
      // Metadata that no store can copy, serialize or clone: reading its stamp throws.
      const broken = entryOf('[7]', bytesOf('broken'));
      const unreadable = Object.defineProperty({ ...broken.meta }, 'stamp', {
        enumerable: true,
        get: () => {
          throw new Error('unreadable stamp');
        },
      });
      const outcomes = await Promise.allSettled(
        keys.map((key, i) =>
          store.write('task', key, i === 7 ? { meta: unreadable, value: broken.value } : (entries[i] as Entry)),
        ),
      );
      // A store that keeps metadata as handed over (in memory) may take it; one that copies,
      // serializes or clones it cannot. Then each write alone fails that one only, and a
      // transaction of several fails them all: never a part of one.
      const statuses = outcomes.map((outcome) => outcome.status);
      const expected = statuses[7] === 'fulfilled' || statuses[0] === 'fulfilled' ? 'fulfilled' : 'rejected';
      expectEqual(
        statuses.filter((_, i) => i !== 7),
        keys.slice(1).map(() => expected),
        'the other writes',
      );
      for (const [i, outcome] of outcomes.entries()) {
        const entry = entries[i] as Entry;
        if (i === 7 && outcome.status === 'fulfilled') continue;
        if (outcome.status === 'fulfilled') await expectEntry(store, 'task', entry, `stored ${entry.meta.key}`);
        else if (i === 0) await expectEntry(store, 'task', entryOf('[0]', bytesOf('before')), 'the entry before');
        else await expectNone(store, 'task', entry.meta.key, `failed ${entry.meta.key}`);
      }
      // The store goes on working, for the keys that failed too.
      await Promise.all(keys.map((key, i) => store.write('task', key, entries[i] as Entry)));
      for (const entry of entries) await expectEntry(open(), 'task', entry, `rewritten ${entry.meta.key}`);
    },
  },
  {
    name: 'readMetas (where the store has it) reads as readMeta does, in the order of its keys',
    async run(open) {
      const store = open();
      if (!store.readMetas) return;
      expectEqual(await store.readMetas('task', []), [], 'no keys');
      expectEqual(await store.readMetas('task', ['[1]', '[2]']), [undefined, undefined], 'an empty store');
      const first = entryOf('[1]', bytesOf('first'), { inputs: ['s1'], version: 'v1' });
      const second = entryOf('[2]', bytesOf('second'), { encoding: 'zlib' });
      await store.write('task', '[1]', first);
      await store.write('task', '[2]', second);
      await store.write('other', '[3]', entryOf('[3]', bytesOf('other folder')));
      await store.write('task.x', '[4]', entryOf('[4]', bytesOf('a folder named like a prefix')));
      const keys = ['[2]', '[9]', '[1]', '[3]', '[2]', '[4]', '__proto__'];
      const metas = await open().readMetas?.('task', keys);
      expectEqual(metas, [second.meta, undefined, first.meta, undefined, second.meta, undefined, undefined], 'metas');
      for (const [i, key] of keys.entries()) {
        expectEqual(metas?.[i], await store.readMeta('task', key), `readMeta(${key})`);
      }
      expectEqual(await store.readMetas('missing', ['[1]']), [undefined], 'a missing folder');
      await store.delete('task', '[1]');
      expectEqual(await store.readMetas('task', ['[1]', '[2]']), [undefined, second.meta], 'after a delete');
    },
  },
  {
    name: 'readMetas reads thousands of keys at once, stored and missing, in order',
    async run(open) {
      const store = open();
      if (!store.readMetas) return;
      const stored = Array.from({ length: 1500 }, (_, i) => entryOf(`[${i * 2}]`, bytesOf(`many ${i}`, 8)));
      await Promise.all(stored.map((entry) => store.write('many', entry.meta.key, entry)));
      // Every stored key and a missing one between each two, last first.
      const keys = Array.from({ length: 3000 }, (_, i) => `[${2999 - i}]`);
      const metas = await open().readMetas?.('many', keys);
      expectEqual(metas?.length, keys.length, 'one result per key');
      for (const [i, key] of keys.entries()) {
        const n = 2999 - i;
        expectEqual(metas?.[i], n % 2 === 0 ? stored[n / 2]?.meta : undefined, `readMetas ${key}`);
      }
    },
  },
  {
    name: 'readMetas reads damaged metadata as missing, with a warning, and removes that entry only',
    async run(open) {
      const store = open();
      if (!store.readMetas || !open.damageMeta) return;
      const keys = ['[1]', '[2]', '[3]', '[4]'];
      for (const key of keys) await store.write('task', key, entryOf(key, bytesOf(key)));
      await open.damageMeta('task', '[1]', 'garbage');
      await open.damageMeta('task', '[2]', entryOf('[9]', bytesOf('[2]')).meta); // another key's
      await open.damageMeta('task', '[3]', { format: 1, version: '', inputs: null });
      const warnings: string[] = [];
      const warn = console.warn;
      console.warn = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
      let metas: (EntryMeta | undefined)[];
      try {
        metas = await store.readMetas('task', [...keys, '[1]']);
      } finally {
        console.warn = warn;
      }
      const good = entryOf('[4]', bytesOf('[4]'));
      expectEqual(metas, [undefined, undefined, undefined, good.meta, undefined], 'metas');
      for (const key of keys.slice(0, 3)) {
        expectEqual(
          warnings.some((warning) => warning.includes(`task(${key.slice(1, -1)})`)),
          true,
          `a warning names ${key}: ${JSON.stringify(warnings)}`,
        );
      }
      // Removed whole, so that it is computed again; the good entry is untouched.
      await expectKeys(store, 'task', ['[4]'], 'after reading damaged entries');
      for (const key of keys.slice(0, 3)) await expectNone(store, 'task', key, `damaged ${key}`);
      await expectEntry(store, 'task', good, 'the good entry');
      await store.write('task', '[1]', entryOf('[1]', bytesOf('again')));
      expectEqual(await store.readMetas('task', ['[1]']), [entryOf('[1]', bytesOf('again')).meta], 'rewritten');
    },
  },
  {
    name: 'random sequences of writes, deletes and clears agree with a reference model',
    async run(open) {
      const folders = ['t', 't.a', 'ta'];
      const keys = ['[1]', '[2]', '["a/b"]', '__proto__', 'ü'];
      const operation = fc.oneof(
        fc.record({ op: fc.constant('write' as const), folder: fc.nat(2), key: fc.nat(4), length: fc.nat(300) }),
        fc.record({ op: fc.constant('delete' as const), folder: fc.nat(2), key: fc.nat(4) }),
        fc.record({ op: fc.constant('clear' as const), folder: fc.nat(2) }),
        fc.record({ op: fc.constant('check' as const), folder: fc.nat(2), key: fc.nat(4) }),
      );
      let runs = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(operation, { maxLength: 25 }), fc.boolean(), async (operations, reopen) => {
          let store = open();
          for (const folder of folders) await store.clear(folder);
          const model = new Map<string, Map<string, Entry>>(folders.map((folder) => [folder, new Map()]));
          for (const [i, step] of operations.entries()) {
            const folder = folders[step.folder] as string;
            const entries = model.get(folder) as Map<string, Entry>;
            if (step.op === 'clear') {
              await store.clear(folder);
              entries.clear();
              continue;
            }
            const key = keys[step.key] as string;
            if (step.op === 'write') {
              const entry = entryOf(key, bytesOf(`${runs}-${i}`, step.length), { stamp: `${runs}-${i}` });
              await store.write(folder, key, entry);
              entries.set(key, entry);
            } else if (step.op === 'delete') {
              await store.delete(folder, key);
              entries.delete(key);
            } else {
              const entry = entries.get(key);
              if (entry) await expectEntry(store, folder, entry, `step ${i}`);
              else await expectNone(store, folder, key, `step ${i}`);
            }
            if (reopen) store = open();
          }
          for (const [folder, entries] of model) {
            await expectKeys(store, folder, [...entries.keys()], 'at the end');
            for (const entry of entries.values()) await expectEntry(store, folder, entry, 'at the end');
          }
          runs++;
        }),
        { numRuns: 40 },
      );
    },
  },
  {
    name: 'lock (where the store has one) excludes per key, across store objects, and leaves no entry',
    async run(open) {
      const first = open();
      const second = open();
      if (!first.lock || !second.lock) return;
      const entry = entryOf('[1]', bytesOf('locked'));
      await first.write('task', '[1]', entry);
      const release = await first.lock('task', '[1]');
      let taken = false;
      const waiting = second.lock('task', '[1]').then((releaseSecond) => {
        taken = true;
        return releaseSecond;
      });
      // Other keys and folders lock independently, and the store works while the lock is held.
      await (await second.lock('task', '[2]'))();
      await (await second.lock('other', '[1]'))();
      await expectEntry(second, 'task', entry, 'while locked');
      expectEqual(taken, false, 'the second lock of a held key was granted');
      await release();
      await (await waiting)();
      expectEqual(taken, true, 'the second lock after release');
      await expectKeys(first, 'task', ['[1]'], 'after locking');
      await expectKeys(first, 'other', [], 'a folder only locked');
      await expectEntry(first, 'task', entry, 'after locking');
    },
  },
];

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
