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
  for (const [key, bytes] of written) assert.deepEqual(await store.readValue('packed', key), bytes, key);
  // A value read back is a copy: changing it changes neither its entry nor its chunk's neighbours.
  const first = (await store.readValue('packed', '[1]')) as Uint8Array;
  first.fill(0xff);
  assert.deepEqual(await store.readValue('packed', '[1]'), written.get('[1]'));
  assert.deepEqual(await store.readValue('packed', '[2]'), written.get('[2]'));
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

test('idbStore: a value record with a flipped bit fails its checksum: reported, removed, read as missing', async (t) => {
  const dbName = 'checksums';
  const store = idbStore({ dbName });
  const entry = entryOf('[1]', bytesOf('checked value', 300));
  await store.write('task', '[1]', entry);
  assert.deepEqual(await store.readValue('task', '[1]'), entryBytes(entry));
  // Flip one bit inside the stored value, leaving its length as it was.
  await new Promise<void>((resolve, reject) => {
    const request = indexedDB.open(dbName);
    request.onerror = () => reject(request.error);
    request.onsuccess = () => {
      const database = request.result;
      const objects = database.transaction('entries', 'readwrite').objectStore('entries');
      const get = objects.get(['v', 'task', '[1]']);
      get.onsuccess = () => {
        const record = get.result as Uint8Array;
        record[100] = (record[100] as number) ^ 0x04;
        objects.put(record, ['v', 'task', '[1]']).onsuccess = () => {
          database.close();
          resolve();
        };
      };
    };
  });
  const warn = t.mock.method(console, 'warn', () => {});
  assert.equal(await store.readValue('task', '[1]'), undefined);
  assert.equal(warn.mock.callCount(), 1);
  assert.match(String(warn.mock.calls[0]?.arguments[0]), /value checksum mismatch/);
  assert.equal(await store.readMeta('task', '[1]'), undefined, 'the damaged entry is removed whole');
});
