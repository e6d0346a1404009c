import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { type CorruptEntry, fsStore, memoryStore, requires, type Store, task } from 'checkpoint-tool';
import { choose } from './fixtures/choose.js';
import { chooseGraph, recorder, temporaryDir } from './helpers.js';

const entryFile = (dir: string, n: number, k: number) =>
  join(dir, 'checkpoint', 'choose', `${createHash('sha256').update(`[${n},${k}]`).digest('hex')}.entry`);

async function flipByte(path: string, fromEnd: number) {
  const bytes = await readFile(path);
  const at = fromEnd >= 0 ? bytes.length - 1 - fromEnd : -fromEnd;
  bytes[at] = (bytes[at] as number) ^ 0x10;
  await writeFile(path, bytes);
}

test('damaged entry files are reported once, treated as missing and recomputed, never returned', async () => {
  const dir = await temporaryDir();
  const reports: CorruptEntry[] = [];
  const store = fsStore({ dir, onCorrupt: (entry) => reports.push(entry) });
  assert.equal(await choose(8, 4).run({ store }), 70);

  await truncate(entryFile(dir, 5, 2), (await stat(entryFile(dir, 5, 2))).size - 3); // truncated
  await flipByte(entryFile(dir, 4, 2), -40); // a bit flipped in the metadata
  await writeFile(entryFile(dir, 3, 1), 'not an entry at all, but some other program’s file'); // foreign
  await writeFile(entryFile(dir, 2, 1), ''); // empty
  const events = recorder();
  assert.equal(await choose(8, 4).run({ store, onEvent: events.onEvent }), 70);
  const byInstance = new Map(reports.map((r) => [r.key, r.reason]));
  assert.equal(reports.length, 4, `each damaged entry reported once: ${JSON.stringify(reports)}`);
  assert.match(byInstance.get('[5,2]') ?? '', /bytes instead of/);
  assert.match(byInstance.get('[4,2]') ?? '', /metadata checksum mismatch|not JSON/);
  assert.match(byInstance.get('[3,1]') ?? '', /not an entry file/);
  assert.match(byInstance.get('[2,1]') ?? '', /shorter than an entry header/);
  for (const label of [
    'choose(5,2)',
    'choose(4,2)',
    'choose(3,1)',
    'choose(2,1)',
    'choose(6,3)',
    'choose(7,4)',
    'choose(8,4)',
  ]) {
    assert.ok(events.labels('finished').includes(label), `${label} recomputed`);
  }

  // Everything is whole again: no more reports, nothing recomputed.
  events.clear();
  assert.equal(await choose(8, 4).run({ store, onEvent: events.onEvent }), 70);
  assert.equal(reports.length, 4);
  assert.deepEqual(events.labels('finished'), []);
});

test('a bit flipped in a value is caught by its checksum when the value is read', async () => {
  const dir = await temporaryDir();
  const reports: CorruptEntry[] = [];
  const store = fsStore({ dir, onCorrupt: (entry) => reports.push(entry) });
  assert.equal(await choose(8, 4).run({ store }), 70);
  await flipByte(entryFile(dir, 8, 4), 0); // the root's value: read by a run that reuses it
  const events = recorder();
  assert.equal(await choose(8, 4).run({ store, onEvent: events.onEvent }), 70);
  assert.deepEqual(events.labels('finished'), ['choose(8,4)']);
  await flipByte(entryFile(dir, 6, 3), 0); // read once its dependent is recomputed
  await choose(7, 4).clear({ store });
  events.clear();
  assert.equal(await choose(8, 4).run({ store, onEvent: events.onEvent }), 70);
  assert.deepEqual(
    reports.map((r) => [r.key, r.reason]),
    [
      ['[8,4]', 'value checksum mismatch'],
      ['[6,3]', 'value checksum mismatch'],
    ],
  );
  assert.deepEqual(new Set(events.labels('finished')), new Set(['choose(6,3)', 'choose(7,4)', 'choose(8,4)']));
  assert.equal(await choose(8, 4).run({ store }), 70);
  assert.equal(reports.length, 2);
});

test('a stored value that cannot be decoded is recomputed with a warning, not returned', async (t) => {
  const inner = memoryStore();
  let garble = false;
  const store: Store = {
    ...inner,
    async readValue(folder, key) {
      const read = await inner.readValue(folder, key);
      return garble && read && key === '[6,3]'
        ? { ...read, value: new Uint8Array(read.value.length).fill(0xff) }
        : read;
    },
  };
  assert.equal(await choose(7, 3).run({ store }), 35);
  await choose(7, 3).clear({ store });
  garble = true;
  const warn = t.mock.method(console, 'warn', () => {});
  const events = recorder();
  assert.equal(await choose(7, 3).run({ store, onEvent: events.onEvent }), 35);
  assert.equal(warn.mock.callCount(), 1);
  assert.match(String(warn.mock.calls[0]?.arguments[0]), /cached value of choose\(6,3\) is unreadable/);
  assert.deepEqual(new Set(events.labels('finished')), new Set(['choose(6,3)', 'choose(7,3)']));
});

test('an entry evicted between planning and reading is simply recomputed', async () => {
  const inner = memoryStore();
  const store: Store = {
    ...inner,
    async readValue(folder, key) {
      if (key === '[5,2]') await inner.delete(folder, key); // evicted by the browser, say
      return inner.readValue(folder, key);
    },
  };
  assert.equal(await choose(6, 3).run({ store }), 20);
  await choose(6, 2).clear({ store });
  const events = recorder();
  assert.equal(await choose(6, 2).run({ store, onEvent: events.onEvent }), 15);
  const added = [...chooseGraph(6, 2)].filter((label) => !chooseGraph(6, 3).has(label));
  assert.deepEqual(new Set(events.labels('finished')), new Set([...added, 'choose(5,2)']));
  assert.ok(!added.includes('choose(5,2)'));
});

test('a vanished value recomputed for one dependent is read back, not computed again, for a vanished dependent that needs it too', async () => {
  const inner = memoryStore();
  const counts = { leaf: 0, mid: 0 };
  const leaf = task('vanish-twice-leaf', () => () => ++counts.leaf);
  const mid = task('vanish-twice-mid', () => requires(leaf())((v) => v * 10 + ++counts.mid));
  const side = task('vanish-twice-side', (n: number) => requires(leaf())((v) => v + n));
  const top = task('vanish-twice-top', (n: number) => requires(side(n), mid())((s, m) => s + m));
  assert.equal(await top(0).run({ store: inner }), 1 + 11);
  // The values of leaf() and mid() are evicted the first time they are read.
  const evicted = new Set<string>();
  const store: Store = {
    ...inner,
    async readValue(folder, key) {
      if (!evicted.has(folder)) {
        evicted.add(folder);
        await inner.delete(folder, key);
      }
      return inner.readValue(folder, key);
    },
  };
  // side(1) needs leaf() and recomputes it; top(1) then needs mid(), which needs leaf() again.
  assert.equal(await top(1).run({ store }), 3 + 22);
  assert.deepEqual(counts, { leaf: 2, mid: 2 });
});

test('an async onCorrupt is awaited: what it does is done when the run ends, and its rejection fails the run as a throw does', async () => {
  const dir = await temporaryDir();
  const reports: string[] = [];
  const store = fsStore({
    dir,
    onCorrupt: async (entry) => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      reports.push(entry.key);
    },
  });
  assert.equal(await choose(4, 2).run({ store }), 6);
  await writeFile(entryFile(dir, 3, 1), 'not an entry');
  assert.equal(await choose(4, 2).run({ store }), 6);
  assert.deepEqual(reports, ['[3,1]']);
  await writeFile(entryFile(dir, 3, 1), 'not an entry');
  const failing = fsStore({
    dir,
    onCorrupt: async () => {
      throw new Error('could not send the report');
    },
  });
  await assert.rejects(choose(4, 2).run({ store: failing }), /could not send the report/);
});

test('an onCorrupt that rejects while many headers are read fails the run, not the process', async () => {
  const dir = await temporaryDir();
  assert.equal(await choose(60, 30).run({ store: fsStore({ dir }) }), 118264581564861420);
  // Read among the first of about 1,000 headers, read in slices between which other work runs.
  await writeFile(entryFile(dir, 1, 0), 'not an entry');
  const unhandled: unknown[] = [];
  const keep = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', keep);
  try {
    const failing = fsStore({
      dir,
      onCorrupt: async () => {
        throw new Error('could not send the report');
      },
    });
    await assert.rejects(choose(60, 30).run({ store: failing }), /could not send the report/);
    // A turn of the event loop for a late report of an unhandled rejection.
    await new Promise((resolve) => setImmediate(resolve));
  } finally {
    process.off('unhandledRejection', keep);
  }
  assert.deepEqual(unhandled, []);
});
