import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, type TestContext, test } from 'node:test';
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

/** Bytes laid out as the codec writes them: the JSON's length, the JSON, then 8-byte aligned sections. */
function storedBytes(json: string, ...sections: Uint8Array[]): Uint8Array {
  const text = new TextEncoder().encode(json);
  const align = (n: number) => Math.ceil(n / 8) * 8;
  const bytes = new Uint8Array(align(4 + text.length) + sections.reduce((size, s) => size + align(s.length), 0));
  new DataView(bytes.buffer).setUint32(0, text.length, true);
  bytes.set(text, 4);
  let offset = align(4 + text.length);
  for (const section of sections) {
    bytes.set(section, offset);
    offset += align(section.length);
  }
  return bytes;
}

let storedCount = 0;

/** Runs an instance whose stored value is replaced by `bytes`: the value read back, or recomputed. */
async function readStored(t: TestContext, bytes: Uint8Array) {
  const inner = memoryStore();
  const stored = task(`stored-${storedCount++}`, () => () => 'recomputed' as unknown);
  await stored().run({ store: inner });
  const store: Store = { ...inner, readValue: async () => bytes };
  const warn = t.mock.method(console, 'warn', () => {});
  const { value, cached } = await runOnce(stored(), store);
  warn.mock.restore();
  return { value, cached, warnings: warn.mock.calls.map((call) => String(call.arguments[0])) };
}

/** Each level holds the next twice: 2^depth paths to the leaf, depth + 1 distinct objects. */
function doubling(depth: number, leaf: object): Record<string, unknown> {
  let level: Record<string, unknown> = { leaf };
  for (let i = 0; i < depth; i++) level = { left: level, right: level, when: new Date(i) };
  return level;
}

describe('shared objects', () => {
  test('a value holding each level twice is stored once per distinct object, and comes back shared', async () => {
    const store = memoryStore();
    let reads = 0;
    const leaf = {
      get counted() {
        reads++;
        return 'leaf';
      },
    };
    const twice = task('twice', () => () => doubling(16, leaf));
    const computed = await twice().run({ store });
    const meta = await store.readMeta(twice.id, twice().key);
    // Once per path, it took 2^16 copies (hundreds of MB at 23 levels) and as many reads.
    assert.ok(meta && meta.size < 20_000, `${meta?.size} bytes`);
    assert.ok(reads <= 4, `the leaf was read ${reads} times`);
    const { value, cached } = await runOnce(twice(), store);
    assert.ok(cached);
    assert.equal(describeValue(value), describeValue(computed));
    let level = value;
    for (let i = 0; i < 16; i++) {
      assert.equal(level.left, level.right);
      level = level.left as Record<string, unknown>;
    }
    assert.deepEqual(level.leaf, { counted: 'leaf' });
  });

  test('an object shared inside a shared object stays shared with its other paths', async () => {
    const store = memoryStore();
    const nested = task('nested-sharing', () => () => {
      const x = {};
      const s = { x };
      return [x, { deep: { s } }, s] as const;
    });
    const back = await computedThenRead(nested(), store);
    assert.equal(back[2], back[1].deep.s);
    assert.equal(back[2].x, back[0]);
  });

  test('random graphs of objects, arrays, Maps, Sets and Dates keep their sharing and cycles', async () => {
    const store = memoryStore();
    let current: unknown;
    const echo = task('echo-graph', () => () => current);
    let seed = 20261126;
    const random = (n: number) => {
      // mulberry32: the same values on every run.
      seed = (seed + 0x6d2b79f5) | 0;
      let r = Math.imul(seed ^ (seed >>> 15), 1 | seed);
      r = (r + Math.imul(r ^ (r >>> 7), 61 | r)) ^ r;
      return Math.floor((((r ^ (r >>> 14)) >>> 0) / 4294967296) * n);
    };
    for (let run = 0; run < 300; run++) {
      const kinds = ['object', 'array', 'map', 'set', 'date'] as const;
      const nodes = Array.from({ length: 1 + random(8) }, (_, i) => {
        const kind = kinds[random(kinds.length)];
        if (kind === 'date') return new Date(i);
        return kind === 'object' ? {} : kind === 'array' ? [] : kind === 'map' ? new Map() : new Set();
      });
      const pick = () => (random(5) === 0 ? random(3) : nodes[random(nodes.length)]);
      for (const node of nodes) {
        for (let edges = random(4); edges > 0; edges--) {
          if (node instanceof Map) node.set(random(2) === 0 ? pick() : `k${random(3)}`, pick());
          else if (node instanceof Set) node.add(pick());
          else if (Array.isArray(node)) node.push(pick());
          else if (!(node instanceof Date)) (node as Record<string, unknown>)[`p${random(4)}`] = pick();
        }
      }
      current = nodes[0];
      assert.equal(describeValue(await computedThenRead(echo(), store)), describeValue(current), `run ${run}`);
    }
  });

  test('an entry written before shared objects were written once still loads, shared', async (t) => {
    // Written by the previous version (superjson without dedupe): copies at every path, sorted
    // shortest first, Sets and Maps as superjson stores them.
    const json =
      '{"json":{"set":[{"a":1},[2],null],"map":[[{"a":1},[2]],[[2],{"a":1}],["k","1970-01-01T00:00:00.007Z"]],"list":[{"a":1},[2],"1970-01-01T00:00:00.007Z",{"t":"Float64Array","o":0,"n":16},{"t":"Float64Array","o":0,"n":16}],"dict":[["a",{"a":1}],["self",null]],"error":{"cause":{"a":1},"\\u0000error":["TypeError","TypeError","bad","TypeError: bad",1]},"guarded":[["constructor",[2]]],"self":null},"meta":{"values":{"set":["set"],"map":["map",{"2.1":["Date"]}],"list.2":["Date"],"list.3":[["custom","View"]],"list.4":[["custom","View"]],"dict":[["custom","NullPrototype"]],"error":[["custom","Error"]],"guarded":[["custom","Entries"]]},"referentialEqualities":[["self"],{"set.0":["list.0","error.cause","map.0.0","map.1.1","dict.0.1"],"set.1":["list.1","map.0.1","map.1.0","guarded.0.1"],"list.2":["map.2.1"],"list.3":["list.4"],"dict":["dict.1.1"]}],"v":1}}';
    const loaded = await readStored(t, storedBytes(json, new Uint8Array(new Float64Array([1.5, -0]).buffer)));
    assert.deepEqual(loaded.warnings, []);
    assert.ok(loaded.cached);
    const a = { a: 1 };
    const b = [2];
    const when = new Date(7);
    const bytes = new Float64Array([1.5, -0]);
    const dict = Object.create(null);
    dict.a = a;
    dict.self = dict;
    const error = new TypeError('bad', { cause: a });
    error.stack = 'TypeError: bad';
    const expected: Record<string, unknown> = {
      set: new Set([a, b, null]),
      map: new Map<unknown, unknown>([
        [a, b],
        [b, a],
        ['k', when],
      ]),
      list: [a, b, when, bytes, bytes],
      dict,
      error,
      guarded: { constructor: b },
    };
    expected.self = expected;
    assert.equal(describeValue(loaded.value), describeValue(expected));
  });
});

describe('a crafted entry never reaches outside its value', () => {
  const attacks: [string, string][] = [
    ['a path through constructor.prototype', '{"a":["b.constructor.prototype.polluted"]}'],
    ['a path through __proto__', '{"a":["b.__proto__.polluted"]}'],
    ['a path through an inherited method', '{"a":["b.hasOwnProperty.polluted"]}'],
    ['a root path through __proto__', '[["b.__proto__.polluted"]]'],
    ['a representative path through __proto__', '{"b.__proto__":["a"]}'],
    ['a path past the end of an array', '{"a":["list.5"]}'],
  ];
  for (const [kind, references] of attacks) {
    test(`${kind}: the entry is unreadable and recomputed, and nothing is polluted`, async (t) => {
      const json = `{"json":{"a":{"yes":true},"b":{},"list":[]},"meta":{"referentialEqualities":${references},"v":1}}`;
      const loaded = await readStored(t, storedBytes(json));
      assert.equal(loaded.value, 'recomputed');
      assert.equal(loaded.warnings.length, 1);
      assert.match(
        loaded.warnings[0] as string,
        /is unreadable \(SerializationError: a reference path .*\); recomputing it/,
      );
      assert.equal(({} as Record<string, unknown>).polluted, undefined);
      assert.equal((Object.prototype.hasOwnProperty as unknown as Record<string, unknown>).polluted, undefined);
    });
  }

  test('a value annotation through __proto__ is unreadable too (superjson refuses it)', async (t) => {
    const json = '{"json":{"b":{}},"meta":{"values":{"b.__proto__.polluted":["undefined"]},"v":1}}';
    const loaded = await readStored(t, storedBytes(json));
    assert.equal(loaded.value, 'recomputed');
    assert.equal(loaded.warnings.length, 1);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('own __proto__ keys in the JSON stay own keys of the value', async (t) => {
    const json =
      '{"json":{"a":{"__proto__":{"polluted":1}},"b":null},"meta":{"referentialEqualities":{"a":["b"]},"v":1}}';
    const loaded = await readStored(t, storedBytes(json));
    assert.ok(loaded.cached);
    const value = loaded.value as Record<string, Record<string, unknown>>;
    assert.equal(value.b, value.a);
    assert.equal(Object.getPrototypeOf(value.a), Object.prototype);
    assert.deepEqual(Object.getOwnPropertyDescriptor(value.a, '__proto__')?.value, { polluted: 1 });
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
  });

  test('null-prototype objects with __proto__ keys, shared and cyclic, still round-trip', async () => {
    const store = memoryStore();
    const dictionaries = task('proto-dictionaries', () => () => {
      const shared = { shared: true };
      const dictionary = Object.create(null) as Record<string, unknown>;
      Object.defineProperty(dictionary, '__proto__', { value: shared, enumerable: true, writable: true });
      dictionary.self = dictionary;
      const parsed = JSON.parse('{"__proto__":{"x":1},"prototype":2}');
      return { dictionary, shared, parsed, again: [parsed, dictionary] };
    });
    const back = await computedThenRead(dictionaries(), store);
    assert.equal(Object.getPrototypeOf(back.dictionary), null);
    assert.equal(Object.getOwnPropertyDescriptor(back.dictionary, '__proto__')?.value, back.shared);
    assert.equal(back.dictionary.self, back.dictionary);
    assert.deepEqual(Object.getOwnPropertyDescriptor(back.parsed, '__proto__')?.value, { x: 1 });
    assert.equal(back.again[0], back.parsed);
    assert.equal(back.again[1], back.dictionary);
  });
});

describe('registered Error subclasses', () => {
  class QuotaError extends Error {
    code = 'E_QUOTA';
    override name = 'QuotaError';
  }
  class Failures extends AggregateError {}
  serializer.registerClass(QuotaError);
  serializer.registerClass(Failures, { identifier: 'test.Failures' });

  test('come back as their class, with message, name, stack, cause and fields', async () => {
    const store = memoryStore();
    const limit = { limit: 3 };
    const quota = new QuotaError('over quota', { cause: limit });
    const plain = new QuotaError();
    const failures = new Failures([quota, new RangeError('far')], 'two failures');
    const value = { quota, plain, failures, limit };
    const errors = task('registered-errors', () => () => value);
    const back = await computedThenRead(errors(), store);
    assert.equal(describeValue(back), describeValue(value));
    assert.ok(back.quota instanceof QuotaError);
    assert.equal(back.quota.message, 'over quota');
    assert.equal(back.quota.stack, quota.stack);
    assert.equal(back.quota.cause, back.limit);
    assert.equal(back.quota.code, 'E_QUOTA');
    assert.ok(back.failures instanceof Failures);
    assert.equal(back.failures.errors[0], back.quota);
    assert.equal(back.failures.message, 'two failures');
  });
});

test('an AggregateError whose errors array is shared elsewhere in the value loads, sharing kept', async () => {
  const store = memoryStore();
  let runs = 0;
  const failing = task('ser-aggregate-shared', () => () => {
    runs++;
    const aggregate = new AggregateError([new RangeError('one'), new TypeError('two')], 'both');
    return { failures: aggregate.errors, aggregate };
  });
  await failing().run({ store });
  const loaded = await failing().run({ store });
  assert.equal(runs, 1, 'loaded, not computed again');
  assert.ok(loaded.aggregate instanceof AggregateError);
  assert.equal(loaded.aggregate.errors, loaded.failures);
  assert.deepEqual(
    loaded.failures.map((error: Error) => `${error.name}: ${error.message}`),
    ['RangeError: one', 'TypeError: two'],
  );
});
