/**
 * The store conformance cases on `readMetas` (where a store has it): as `readMeta` does, for
 * thousands of keys at once, and on damaged metadata.
 * @module
 */
import type { EntryMeta } from 'checkpoint-tool';
import { bytesOf, entryOf, expectEntry, expectEqual, expectKeys, expectNone, type StoreCase } from './store-checks.js';

/** The cases of `readMetas`, for the stores that have it. */
export const readMetasCases: readonly StoreCase[] = [
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
];
