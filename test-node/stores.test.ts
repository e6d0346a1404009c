import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { fsStore, memoryStore } from 'checkpoint-tool';
// The browser entry also sets its default store; every test here passes its store explicitly.
import { idbStore } from 'checkpoint-tool/browser';
import { temporaryDir } from './helpers.js';
import { bytesOf, entryBytes, entryOf } from './store-checks.js';
import { damageIdbMeta, testStore } from './store-suite.js';

testStore(
  'memoryStore',
  () => {
    const store = memoryStore();
    return () => store;
  },
  { describe, test },
);

test('memoryStore: small values packed into shared chunks each read back whole, across chunk ends and overwrites', async () => {
  const store = memoryStore();
  // Sizes around the packing limit (1 KiB) and chunk size (16 KiB), in one and two pieces.
  const lengths = [0, 1, 5, 6, 700, 1023, 1024, 1025, 4000, 16 * 1024, 16 * 1024 + 1];
  const written = new Map<string, Uint8Array>();
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 400; i++) {
      const key = `[${i}]`;
      const bytes = bytesOf(`${round}:${i}`, lengths[(i + round) % lengths.length]);
      await store.write('packed', key, entryOf(key, bytes));
      written.set(key, bytes);
    }
  }
  for (const [key, bytes] of written) assert.deepEqual((await store.readValue('packed', key))?.value, bytes, key);
  // A value read back is a copy: changing it changes neither its entry nor its chunk's neighbours.
  const first = (await store.readValue('packed', '[1]'))?.value as Uint8Array;
  first.fill(0xff);
  assert.deepEqual((await store.readValue('packed', '[1]'))?.value, written.get('[1]'));
  assert.deepEqual((await store.readValue('packed', '[2]'))?.value, written.get('[2]'));
});

testStore(
  'fsStore',
  async () => {
    const dir = await temporaryDir();
    return () => fsStore({ dir });
  },
  { describe, test },
);

let databases = 0;
testStore(
  'idbStore on fake-indexeddb',
  () => {
    const dbName = `conformance-${databases++}`;
    return Object.assign(() => idbStore({ dbName }), { damageMeta: damageIdbMeta(dbName) });
  },
  { describe, test },
);

/** Replaces an entry's raw value record in IndexedDB by what `edit` makes of it, and gives the record it found. */
async function editValueRecord(dbName: string, key: string, edit: (record: unknown) => Promise<unknown>) {
  const database = await new Promise<IDBDatabase>((resolve, reject) => {
    const request = indexedDB.open(dbName);
    request.onerror = () => reject(request.error);
    request.onsuccess = () => resolve(request.result);
  });
  const objects = (mode: IDBTransactionMode) => database.transaction('entries', mode).objectStore('entries');
  const record = await new Promise<unknown>((resolve, reject) => {
    const get = objects('readonly').get(['v', 'task', key]);
    get.onsuccess = () => resolve(get.result);
    get.onerror = () => reject(get.error);
  });
  const edited = await edit(record);
  await new Promise<void>((resolve, reject) => {
    const put = objects('readwrite').put(edited, ['v', 'task', key]);
    put.onsuccess = () => resolve();
    put.onerror = () => reject(put.error);
  });
  database.close();
  return record;
}

/** A copy of a value record's bytes with one bit flipped at `at`, as the same kind of record. */
async function flipped(record: unknown, at: number): Promise<unknown> {
  const bytes = record instanceof Blob ? new Uint8Array(await record.arrayBuffer()) : (record as Uint8Array).slice();
  bytes[at] = (bytes[at] as number) ^ 0x04;
  return record instanceof Blob ? new Blob([bytes]) : bytes;
}

for (const [size, kind] of [
  [300, 'bytes'],
  [121 * 2 ** 20, 'a Blob'],
] as const) {
  test(`idbStore: a value of ${size.toLocaleString('en-US')} bytes is kept as ${kind}; a flipped bit fails its checksum: reported, removed, read as missing`, async (t) => {
    const dbName = `checksums-${size}`;
    const store = idbStore({ dbName });
    const entry = entryOf('[1]', bytesOf('checked value', size));
    await store.write('task', '[1]', entry);
    assert.deepEqual((await store.readValue('task', '[1]'))?.value, entryBytes(entry));
    // Flip one bit inside the stored value, leaving its length as it was.
    const record = await editValueRecord(dbName, '[1]', (found) => flipped(found, size - 100));
    assert.equal(record instanceof Blob, kind === 'a Blob');
    const warn = t.mock.method(console, 'warn', () => {});
    assert.equal((await store.readValue('task', '[1]'))?.value, undefined);
    assert.equal(warn.mock.callCount(), 1);
    assert.match(String(warn.mock.calls[0]?.arguments[0]), /value checksum mismatch/);
    assert.equal(await store.readMeta('task', '[1]'), undefined, 'the damaged entry is removed whole');
  });
}

test('idbStore: a Blob value record whose bytes cannot be read is reported, removed and read as missing', async (t) => {
  const dbName = 'unreadable-blob';
  const store = idbStore({ dbName });
  const entry = entryOf('[1]', bytesOf('blob value', 300));
  await store.write('task', '[1]', entry);
  // The same bytes as a Blob read back as they were.
  await editValueRecord(dbName, '[1]', async (record) => new Blob([record as Uint8Array<ArrayBuffer>]));
  assert.deepEqual((await store.readValue('task', '[1]'))?.value, entryBytes(entry));
  // Its bytes gone (the site's data cleared meanwhile, say).
  t.mock.method(Blob.prototype, 'arrayBuffer', async () => {
    throw new DOMException('The blob is gone', 'NotReadableError');
  });
  const warn = t.mock.method(console, 'warn', () => {});
  assert.equal((await store.readValue('task', '[1]'))?.value, undefined);
  assert.equal(warn.mock.callCount(), 1);
  assert.match(
    String(warn.mock.calls[0]?.arguments[0]),
    /its value could not be read: NotReadableError: The blob is gone/,
  );
  assert.equal(await store.readMeta('task', '[1]'), undefined, 'the entry is removed whole');
});
