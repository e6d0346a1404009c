import assert from 'node:assert/strict';
import { describe, type TestContext, test } from 'node:test';
import { memoryStore, type Store, task } from 'checkpoint-tool';
import { describeValue } from './fixtures/roundtrip-values.js';
import { computedThenRead, runOnce } from './helpers.js';

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
  const meta = await inner.readMeta(stored.id, stored().key);
  assert.ok(meta);
  const store: Store = { ...inner, readValue: async () => ({ meta: { ...meta, size: bytes.length }, value: bytes }) };
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
