import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { fsStore, memoryStore, type Store, task } from 'checkpoint-tool';
import fc from 'fast-check';
import { describeValue, makeValues } from './fixtures/roundtrip-values.js';
import { computedThenRead, runOnce, temporaryDir } from './helpers.js';

const execute = promisify(execFile);
const script = new URL('./fixtures/roundtrip-run.ts', import.meta.url).pathname;

interface RoundTrip {
  computed: number;
  started: string[];
  cached: string[];
  descriptions: Record<string, string>;
}

/** Runs the round-trip fixture in a fresh Node process on the given cache directory. */
async function roundTripProcess(dir: string, mode = 'run'): Promise<RoundTrip> {
  const { stdout } = await execute(process.execPath, ['--import', 'tsx', script, mode], {
    env: { ...process.env, CP_CACHE_DIR: dir },
  });
  return JSON.parse(stdout || '{}') as RoundTrip;
}

describe('values round-trip exactly across a process restart', () => {
  test('a second process reads every value from the cache and sees the same value', async () => {
    const dir = await temporaryDir();
    const values = makeValues();
    const names = Object.keys(values);
    const expected: Record<string, string> = {};
    for (const name of names) {
      const description = describeValue(values[name]);
      expected[`roundtrip.value:${name}`] = description;
      expected[`roundtrip.packed:${name}`] = description;
    }
    const labels = names.flatMap((name) => [
      `roundtrip.value(${JSON.stringify(name)})`,
      `roundtrip.packed(${JSON.stringify(name)})`,
    ]);

    const first = await roundTripProcess(dir);
    assert.equal(first.computed, 2 * names.length);
    assert.deepEqual(first.started, labels);
    assert.deepEqual(first.descriptions, expected);

    const second = await roundTripProcess(dir);
    assert.equal(second.computed, 0, 'nothing recomputed');
    assert.deepEqual(second.started, []);
    assert.deepEqual(second.cached, labels);
    for (const key of Object.keys(expected)) {
      assert.equal(second.descriptions[key], expected[key], key);
    }

    // The default store of a process is $CP_CACHE_DIR/checkpoint/<namespace>.<task>/.
    const folders = await readdir(join(dir, 'checkpoint'));
    assert.deepEqual(folders.sort(), ['roundtrip.packed', 'roundtrip.value']);
    assert.equal((await readdir(join(dir, 'checkpoint', 'roundtrip.value'))).length, names.length);
    await roundTripProcess(dir, 'clear');
    assert.deepEqual(await readdir(join(dir, 'checkpoint')), ['roundtrip.packed'], 'task.clear() on the default store');
  });
});

test('plain JSON values of every length around the short-text path, ASCII or not, come back equal', async () => {
  const store = memoryStore();
  // The stored JSON is `{"json":"..."}`: 11 characters around the text.
  const lengths = [0, 1, 244, 245, 246, 1012, 1013, 1014, 70_000];
  const texts = lengths.flatMap((n) => [
    'a'.repeat(n),
    `${'b'.repeat(n)}é`,
    `€${'c'.repeat(n)}`,
    `${'d'.repeat(n)}\u0000`,
  ]);
  const echo = task('plain-echo', (text: string) => () => ({ text, list: [text.length, text] }));
  for (const text of texts) {
    await echo(text).run({ store });
    const { value, cached } = await runOnce(echo(text), store);
    assert.ok(cached, `${text.length} characters: read from the cache`);
    assert.deepEqual(value, { text, list: [text.length, text] }, `${text.length} characters`);
  }
});

test("a small result's stored bytes are the same whatever was stored before it", async () => {
  const store = memoryStore();
  const echo = task('slab-echo', (value: string | number) => () => value);
  // `{"json":1}` after its 4-byte length, then zeros to 8 bytes.
  const one = new Uint8Array([10, 0, 0, 0, ...new TextEncoder().encode('{"json":1}'), 0, 0]);
  await echo(1).run({ store });
  assert.deepEqual((await store.readValue('slab-echo', '[1]'))?.value, one);
  // A text that turns out not to be ASCII half way is written again another way; the small
  // value stored next has the bytes it has alone, its padding zeros included.
  await echo(`${'a'.repeat(40)}é`).run({ store });
  await echo(2).run({ store });
  assert.deepEqual(
    (await store.readValue('slab-echo', '[2]'))?.value,
    one.map((byte) => (byte === 0x31 ? 0x32 : byte)),
  );
});

test('a store that moves the buffers it is given to another thread leaves later small results whole', async () => {
  const inner = memoryStore();
  const buffers: number[] = [];
  // Against the Store docs: the piece's whole buffer moved (detached), as a careless store might.
  const careless: Store = {
    ...inner,
    write(folder, key, entry) {
      const [piece] = entry.value as [Uint8Array];
      buffers.push(piece.buffer.byteLength);
      const bytes = new Uint8Array(piece.buffer, piece.byteOffset, piece.byteLength).slice();
      structuredClone(piece.buffer, { transfer: [piece.buffer as ArrayBuffer] });
      return inner.write(folder, key, { meta: entry.meta, value: [bytes] });
    },
  };
  const echo = task('detached-echo', (i: number) => () => i * 10);
  for (let i = 1; i <= 3; i++) assert.equal(await echo(i).run({ store: careless }), i * 10);
  for (let i = 1; i <= 3; i++) assert.equal((await runOnce(echo(i), inner)).value, i * 10);
  // Each small result after a detached slab is a slice of a new one (a buffer larger than itself).
  assert.ok(
    buffers.every((length) => length > 64),
    `buffers of ${buffers.join(', ')} bytes`,
  );
});

describe('binary data', () => {
  test('a 1e6-element Float64Array is stored as its 8 MB of bytes, not as JSON', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    const make = () => Float64Array.from({ length: 1e6 }, (_, i) => i * Math.PI);
    const big = task('big-array', () => () => make());
    await big().run({ store });
    const [file] = await readdir(join(dir, 'checkpoint', 'big-array'));
    const { size } = await stat(join(dir, 'checkpoint', 'big-array', file as string));
    assert.ok(size >= 8e6 && size < 8e6 + 1024, `entry of ${size} bytes`);
    const { value, cached } = await runOnce(big(), fsStore({ dir }));
    assert.ok(cached);
    assert.ok(value instanceof Float64Array);
    assert.ok(Buffer.from(value.buffer, value.byteOffset, value.byteLength).equals(Buffer.from(make().buffer)));
  });

  test('a cached typed array changed by its user does not change the cache (memory store)', async () => {
    const store = memoryStore();
    const changed = task('changed-array', () => () => Float64Array.of(1, 2, 3));
    await changed().run({ store });
    const first = await runOnce(changed(), store);
    assert.ok(first.cached);
    first.value.fill(0);
    assert.deepEqual([...(await changed().run({ store }))], [1, 2, 3]);
  });

  test('a large typed array changed after it was computed does not change the cache (memory store)', async () => {
    const store = memoryStore();
    // 80 KB: stored from its own memory, as a piece of its own, rather than copied into the entry.
    const large = task('changed-large-array', () => () => new Float64Array(10_000).fill(1));
    const computed = await large().run({ store });
    computed.fill(42);
    const again = await runOnce(large(), store);
    assert.ok(again.cached);
    assert.ok(again.value.every((x) => x === 1));
  });
});

describe('compression', () => {
  const big = () => ({
    text: 'checkpoint '.repeat(20_000),
    rows: Array.from({ length: 300 }, (_, i) => ({ id: i % 10, label: 'row', when: new Date(0) })),
    zeros: new Float64Array(20_000),
  });

  test('compress: true stores far fewer bytes, and the value comes back equal', async () => {
    const store = memoryStore();
    const plain = task('uncompressed', () => () => big());
    const packed = task('compressed', () => () => big(), { compress: true });
    const level9 = task('compressed-9', () => () => big(), { compress: 9 });
    for (const each of [plain, packed, level9]) await each().run({ store });
    const plainMeta = await store.readMeta(plain.id, plain().key);
    const packedMeta = await store.readMeta(packed.id, packed().key);
    const level9Meta = await store.readMeta(level9.id, level9().key);
    assert.equal(plainMeta?.encoding, 'raw');
    assert.equal(packedMeta?.encoding, 'zlib');
    assert.equal(level9Meta?.encoding, 'zlib');
    assert.ok(plainMeta && packedMeta && level9Meta);
    assert.ok(packedMeta.size * 20 < plainMeta.size, `${packedMeta.size} compressed vs ${plainMeta.size}`);
    assert.ok(level9Meta.size * 20 < plainMeta.size);
    const expected = describeValue(big());
    for (const each of [plain, packed, level9]) {
      const { value, cached } = await runOnce(each(), store);
      assert.ok(cached);
      assert.equal(describeValue(value), expected);
    }
  });
});

describe('random values', () => {
  test('any value of dates, maps, sets, bigints, typed arrays, -0, NaN and undefined round-trips', async () => {
    const store = memoryStore();
    let current: unknown;
    const echo = task('echo', () => () => current);
    const values = fc.anything({
      maxDepth: 3,
      withBigInt: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withTypedArray: true,
      withNullPrototype: true,
      stringUnit: 'binary',
      key: fc.oneof(fc.string({ unit: 'binary' }), fc.constantFrom('__proto__', 'constructor', 'prototype')),
      values: [fc.constantFrom(-0, Number.NaN, Number.POSITIVE_INFINITY, undefined, new Date(Number.NaN)), fc.double()],
    });
    await fc.assert(
      fc.asyncProperty(values, async (value) => {
        current = value;
        assert.equal(describeValue(await computedThenRead(echo(), store)), describeValue(value));
      }),
      { numRuns: 300 },
    );
  });

  test('shared objects in Maps (keys and values), Sets, arrays and objects stay shared and in order', async () => {
    const store = memoryStore();
    let current: unknown;
    const echo = task('echo-shared', () => () => current);
    const atom = fc.oneof(fc.object({ maxDepth: 1 }), fc.constant([]), fc.date(), fc.constant(new Set()));
    const layout = fc.record({
      atoms: fc.array(atom, { minLength: 1, maxLength: 6 }),
      picks: fc.array(fc.array(fc.nat(), { maxLength: 6 }), { minLength: 1, maxLength: 5 }),
      order: fc.array(fc.constantFrom('maps', 'sets', 'lists', 'atoms', 'nested'), { minLength: 1, maxLength: 5 }),
    });
    await fc.assert(
      fc.asyncProperty(layout, async ({ atoms, picks, order }) => {
        const chosen = picks.map((indices) => [...new Set(indices.map((i) => atoms[i % atoms.length]))]);
        const parts: Record<string, unknown> = {
          maps: chosen.map((members) => new Map(members.map((member, i) => [member, atoms[i % atoms.length]]))),
          sets: chosen.map((members) => new Set(members)),
          lists: chosen,
          atoms,
          nested: { deeper: { map: new Map(chosen[0]?.map((member) => [member, member])) } },
        };
        const value: Record<string, unknown> = {};
        for (const name of order) value[name] = parts[name];
        current = value;
        assert.equal(describeValue(await computedThenRead(echo(), store)), describeValue(value));
      }),
      { numRuns: 300 },
    );
  });
});
