/**
 * The store conformance cases on what one store does with one entry at a time: write and read back,
 * overwrite, delete, clear, independent folders, odd keys, and reads that are copies.
 * @module
 */
import {
  bytesOf,
  entryOf,
  expectEntry,
  expectEqual,
  expectKeys,
  expectNone,
  oddKeys,
  type StoreCase,
  show,
} from './store-checks.js';

/** The cases on one store at a time: reads, writes, deletes, clears, folders, odd keys, copies. */
export const basicCases: readonly StoreCase[] = [
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
      const read = (await store.readValue('task', '[1]'))?.value;
      expectEqual(read, expected, 'as written');
      read?.fill(1);
      expectEqual((await store.readValue('task', '[1]'))?.value, expected, 'after changing the read bytes');
      const meta = await store.readMeta('task', '[1]');
      try {
        (meta?.inputs as string[] | undefined)?.push('x');
      } catch {
        // Frozen metadata refuses the change, which is as good as a copy.
      }
      expectEqual((await store.readMeta('task', '[1]'))?.inputs, [], 'after changing the read metadata');
    },
  },
];
