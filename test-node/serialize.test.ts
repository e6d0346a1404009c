import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import {
  fsStore,
  memoryStore,
  type RunEvent,
  SerializationError,
  type Store,
  serializer,
  TaskFailedError,
  task,
} from 'checkpoint-tool';
import fc from 'fast-check';
import { describeValue, makeValues, Point } from './fixtures/roundtrip-values.js';
import { temporaryDir } from './helpers.js';

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

/** Runs an instance and says whether it came from the cache. */
async function runOnce<T>(instance: { run(options: object): Promise<T> }, store: Store) {
  const types: RunEvent['type'][] = [];
  const value = await instance.run({ store, onEvent: (event: RunEvent) => types.push(event.type) });
  return { value, cached: types.includes('cached') && !types.includes('started') };
}

/** Computes an instance afresh, then runs it again: its value as read back from the cache. */
async function computedThenRead<T>(
  instance: { run(options: object): Promise<T>; clear(options: object): Promise<void> },
  store: Store,
): Promise<T> {
  await instance.clear({ store });
  await instance.run({ store });
  const { value, cached } = await runOnce(instance, store);
  assert.ok(cached);
  return value;
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

/** Objects nested `depth` deep. */
function nest(depth: number): unknown {
  let value: unknown = 0;
  for (let i = 0; i < depth; i++) value = { inner: value };
  return value;
}

/** A class nobody registered. */
class Vector {
  dx = 1;
}

describe('results that cannot be stored', () => {
  const cases: [string, () => unknown, string][] = [
    ['a function', () => ({ list: [1, { callback() {} }] }), 'value.list[1].callback'],
    ['a function as the whole value', () => () => 1, 'value'],
    ['a symbol', () => Symbol('s'), 'value'],
    ['a symbol in a Map', () => new Map([['k', Symbol('s')]]), 'value.get(0)'],
    ['a symbol key', () => ({ inner: { [Symbol('s')]: 1 } }), 'value.inner'],
    ['an unregistered class', () => ({ 'odd key': [new Vector()] }), 'value["odd key"][0]'],
    ['a WeakMap', () => new Set([new WeakMap()]), 'value.values[0]'],
    ['a Buffer', () => ({ bytes: Buffer.from('hi') }), 'value.bytes'],
    ['a typed array subclass', () => [new (class Samples extends Float32Array {})(2)], 'value[0]'],
    ['a hole in an array', () => ({ sparse: new Array(3).fill(1, 0, 1).fill(3, 2) }), 'value.sparse[1]'],
    ['nesting deeper than the stack', () => nest(20_000), 'value'],
    [
      'a throwing getter',
      () => ({
        get broken() {
          throw new Error('no');
        },
      }),
      'value',
    ],
    [
      'an unregistered Error subclass',
      () => ({ failures: [new (class ParseError extends Error {})()] }),
      'value.failures[0]',
    ],
    ['a function on an error', () => Object.assign(new Error('x'), { retry() {} }), 'value.retry'],
    ['a function in a registered class', () => Object.assign(new Point(1, 2), { f: () => 0 }), 'value.f'],
  ];
  for (const [kind, make, path] of cases) {
    test(`${kind}: the run fails naming ${path}, and nothing is written`, async () => {
      const memory = memoryStore();
      const dir = await temporaryDir();
      let computed = 0;
      const unstorable = task(`unstorable-${kind.replaceAll(' ', '-')}`, () => () => {
        computed++;
        return make();
      });
      for (const store of [memory, fsStore({ dir }), memory]) {
        await assert.rejects(unstorable().run({ store }), (error: unknown) => {
          assert.ok(error instanceof TaskFailedError, String(error));
          assert.equal(error.task, unstorable.id);
          assert.ok(error.cause instanceof SerializationError, String(error.cause));
          assert.ok(error.cause.message.startsWith(`${path} `), error.cause.message);
          return true;
        });
      }
      assert.equal(computed, 3, 'recomputed each time: nothing was cached');
      assert.deepEqual(await memory.keys(unstorable.id), []);
      const files = await readdir(dir, { recursive: true, withFileTypes: true });
      assert.deepEqual(
        files.filter((file) => !file.isDirectory()).map((file) => file.name),
        [],
        'no file on disk: no entry, no temporary file, no lock left',
      );
    });
  }

  test('cycles and shared objects through objects with a `constructor` key or a null prototype', async () => {
    const store = memoryStore();
    const looped = task('looped', () => () => {
      const shared = { shared: true };
      const guarded: Record<string, unknown> = { constructor: shared, list: [] };
      guarded.self = guarded;
      (guarded.list as unknown[]).push(guarded);
      const dictionary = Object.create(null) as Record<string, unknown>;
      dictionary.me = dictionary;
      dictionary.shared = shared;
      return { guarded, dictionary, shared };
    });
    await looped().run({ store });
    const { value, cached } = await runOnce(looped(), store);
    assert.ok(cached);
    assert.equal(value.guarded.self, value.guarded);
    assert.equal((value.guarded.list as unknown[])[0], value.guarded);
    assert.equal(value.guarded.constructor, value.shared);
    assert.equal(Object.getPrototypeOf(value.dictionary), null);
    assert.equal(value.dictionary.me, value.dictionary);
    assert.equal(value.dictionary.shared, value.shared);
  });

  test('a symbol works once registered, and comes back as the same symbol', async () => {
    const store = memoryStore();
    const red = Symbol('red');
    const color = task('color', () => () => ({ color: red }));
    await assert.rejects(color().run({ store }), (error: TaskFailedError) => error.cause instanceof SerializationError);
    serializer.registerSymbol(red, 'red');
    assert.equal((await color().run({ store })).color, red);
    const { value, cached } = await runOnce(color(), store);
    assert.ok(cached);
    assert.equal(value.color, red);
  });

  test('an instance of a class works once registered, and comes back as that class', async () => {
    class Money {
      amount: bigint;
      currency: string;
      constructor(amount: bigint, currency: string) {
        this.amount = amount;
        this.currency = currency;
      }
      toString() {
        return `${this.amount} ${this.currency}`;
      }
    }
    const store = memoryStore();
    const price = task('price', () => () => ({ total: new Money(12n, 'EUR') }));
    await assert.rejects(price().run({ store }), (error: TaskFailedError) => error.cause instanceof SerializationError);
    serializer.registerClass(Money, { identifier: 'Money' });
    assert.equal(String((await price().run({ store })).total), '12 EUR');
    const { value, cached } = await runOnce(price(), store);
    assert.ok(cached);
    assert.ok(value.total instanceof Money);
    assert.equal(value.total.toString(), '12 EUR');
  });

  test('objects with __proto__, constructor or prototype keys are stored, without polluting anything', async () => {
    const store = memoryStore();
    const json = '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"when":"x"}';
    const keyed = task('guarded-keys', () => () => {
      const value = JSON.parse(json);
      value.when = new Date(5);
      return { value, shared: [value, value] };
    });
    await keyed().run({ store });
    const { value, cached } = await runOnce(keyed(), store);
    assert.ok(cached);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal(Object.getPrototypeOf(value.value), Object.prototype);
    assert.deepEqual(Object.keys(value.value), ['__proto__', 'constructor', 'when']);
    assert.deepEqual(Object.getOwnPropertyDescriptor(value.value, '__proto__')?.value, { polluted: 1 });
    assert.deepEqual(value.value.when, new Date(5));
    assert.equal(value.shared[0], value.value);
    assert.equal(value.shared[1], value.value);
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
