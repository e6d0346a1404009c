/**
 * The store conformance cases on writes issued at once: of different keys, of one key, and with
 * one among them that cannot be stored.
 * @module
 */
import type { Entry } from 'checkpoint-tool';
import { bytesOf, entryOf, expectEntry, expectEqual, expectKeys, expectNone, type StoreCase } from './store-checks.js';

/** The cases of writes issued at once. */
export const concurrentCases: readonly StoreCase[] = [
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
];
