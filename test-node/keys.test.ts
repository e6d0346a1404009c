import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InvalidArgumentError, type Json, task } from 'checkpoint-tool';
import fc from 'fast-check';

/** A task that takes anything, so that the tests can pass what TypeScript would refuse. */
const zero = () => 0;
const t = task('keys-t', (..._args: unknown[]) => zero);

// Full unicode keys and strings, lone surrogates included; not too deep, to stay fast.
const jsonValue = fc.jsonValue({ maxDepth: 4, stringUnit: 'binary' }) as fc.Arbitrary<Json>;

/** Equality of JSON values, whatever the key order: the reference the keys are checked against. */
function jsonEqual(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return a === b;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((item, i) => jsonEqual(item, b[i]));
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  return (
    keysA.length === keysB.length &&
    keysA.every(
      (key) =>
        Object.hasOwn(b, key) && jsonEqual((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]),
    )
  );
}

/** Sets an own property, even one named `__proto__`, without touching any prototype. */
function define(object: object, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** A deep copy with every object's keys inserted in another order, chosen by `seed`. */
function shuffledCopy(value: Json, seed: number): Json {
  let state = seed >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
  const copy = (item: Json): Json => {
    if (typeof item !== 'object' || item === null) return item;
    if (Array.isArray(item)) return item.map(copy);
    const keys = Object.keys(item);
    for (let i = keys.length - 1; i > 0; i--) {
      const j = Math.floor(next() * (i + 1));
      [keys[i], keys[j]] = [keys[j] as string, keys[i] as string];
    }
    const result = {};
    for (const key of keys) define(result, key, copy((item as Record<string, Json>)[key] as Json));
    return result;
  };
  return copy(value);
}

/** The path syntax of error messages: `.name` for identifiers, `["odd key"]` otherwise. */
function step(key: string | number): string {
  if (typeof key === 'number') return `[${key}]`;
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `.${key}` : `[${JSON.stringify(key)}]`;
}

/** Every object and array inside `value` (itself included) with its path from `args[0]`. */
function containers(value: Json, path = 'args[0]'): { container: object; path: string }[] {
  if (typeof value !== 'object' || value === null) return [];
  const found = [{ container: value as object, path }];
  for (const [key, item] of Object.entries(value)) {
    found.push(...containers(item as Json, `${path}${step(Array.isArray(value) ? Number(key) : key)}`));
  }
  return found;
}

class Unregistered {}

/** Values task arguments may not hold, as `(holder) => value`: a cycle needs the object it is in. */
const rejected: Record<string, (holder: object) => unknown> = {
  function: () => () => 1,
  symbol: () => Symbol('s'),
  bigint: () => 1n,
  NaN: () => Number.NaN,
  Infinity: () => Number.POSITIVE_INFINITY,
  '-Infinity': () => Number.NEGATIVE_INFINITY,
  Date: () => new Date(0),
  Map: () => new Map(),
  Set: () => new Set(),
  RegExp: () => /x/,
  Uint8Array: () => new Uint8Array(1),
  'class instance': () => new Unregistered(),
  'boxed number': () => Object(1),
  'object with another prototype': () => Object.create({ inherited: 1 }),
  'cycle to its holder': (holder) => holder,
};

/** Asserts that `call` throws an InvalidArgumentError of task `keys-t` at exactly `path`. */
function assertRejected(call: () => unknown, path: string, what: string): void {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof InvalidArgumentError, `${what}: ${error}`);
    assert.equal(error.task, 'keys-t', what);
    assert.equal(error.path, path, what);
    assert.ok(error.message.startsWith(`Task \`keys-t\`: ${path} `), `${what}: ${error.message}`);
    return true;
  });
}

describe('canonical argument keys', () => {
  test('a value and a deep copy with shuffled key order give the same instance', () => {
    fc.assert(
      fc.property(jsonValue, jsonValue, fc.integer(), (a, b, seed) => {
        const copyA = shuffledCopy(a, seed);
        assert.equal(t(a), t(copyA));
        assert.equal(t(a, b), t(copyA, shuffledCopy(b, seed + 1)));
        assert.deepEqual(t(a).args, [JSON.parse(JSON.stringify(a))]);
      }),
      { numRuns: 300 },
    );
  });

  test('different JSON values give different instances, also values that differ in one place', () => {
    const variants = (value: Json, pick: number, replacement: Json): Json => {
      const copy = shuffledCopy(value, pick);
      const places = containers(copy);
      const place = places[pick % Math.max(places.length, 1)];
      if (!place) return replacement;
      const keys = Object.keys(place.container);
      const key = keys[pick % Math.max(keys.length, 1)];
      if (key === undefined && Array.isArray(place.container)) place.container.push(replacement);
      else if (key === undefined) define(place.container, 'added', replacement);
      else if (pick % 3 === 0 && !Array.isArray(place.container)) delete (place.container as Record<string, Json>)[key];
      else define(place.container, key, replacement);
      return copy;
    };
    fc.assert(
      fc.property(jsonValue, jsonValue, fc.nat(), jsonValue, (a, b, pick, replacement) => {
        assert.equal(t(a) === t(b), jsonEqual(a, b));
        const near = variants(a, pick, replacement);
        assert.equal(t(a) === t(near), jsonEqual(a, near));
      }),
      { numRuns: 300 },
    );
    const distinct: unknown[][] = [
      [1],
      ['1'],
      [[1]],
      [null],
      ['null'],
      [[]],
      [{}],
      [true],
      ['true'],
      [0.1 + 0.2],
      [0.3],
      [1e21],
      ['1e+21'],
      [{ a: 1, b: 2 }],
      [{ 'a":1,"b': 2 }],
      [{ a: '1' }],
      [{ a: 1 }],
      [1, 2],
      [[1, 2]],
      [],
      [''],
      ['\u2028'],
      ['\ud800'],
      ['\udc00'],
      ['é'],
      ['e\u0301'],
    ];
    const instances = new Set(distinct.map((args) => t(...args)));
    assert.equal(instances.size, distinct.length);
  });

  test('arguments of strings, numbers, booleans and null are keyed by their JSON text, as nested ones are', () => {
    const simple = fc.oneof(
      fc.double(),
      fc.integer(),
      fc.constantFrom(-0, 0.1 + 0.2, 1e21, 5e-324, -1.5e-7, Number.MAX_VALUE),
      fc.string({ unit: 'binary' }),
      fc.boolean(),
      fc.constant(null),
    );
    fc.assert(
      fc.property(fc.array(simple, { maxLength: 5 }), (args) => {
        if (args.some((value) => typeof value === 'number' && !Number.isFinite(value))) {
          assert.throws(() => t(...args), InvalidArgumentError);
          return;
        }
        const instance = t(...args);
        assert.equal(instance.key, JSON.stringify(args));
        // The same values one level down take the general path: the same text inside brackets.
        assert.equal(t(args).key, `[${JSON.stringify(args)}]`);
        assert.deepEqual(instance.args, JSON.parse(instance.key));
      }),
      { numRuns: 500 },
    );
  });

  test('__proto__, constructor and prototype keys stay keys and pollute no prototype', () => {
    const guarded = fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'a');
    const object = fc.array(fc.tuple(guarded, jsonValue), { maxLength: 6 }).map((entries) => {
      const result = {};
      for (const [key, value] of entries) define(result, key, value);
      return result as Json;
    });
    fc.assert(
      fc.property(object, fc.integer(), (value, seed) => {
        const instance = t({ nested: [value] });
        assert.equal(instance, t({ nested: [shuffledCopy(value, seed)] }));
        const [arg] = instance.args as [{ nested: [Record<string, Json>] }];
        const copy = arg.nested[0];
        assert.equal(Object.getPrototypeOf(copy), Object.prototype);
        assert.deepEqual(Object.keys(copy).sort(), Object.keys(value as object).sort());
        for (const key of Object.keys(copy)) {
          assert.ok(jsonEqual(Object.getOwnPropertyDescriptor(copy, key)?.value, (value as Record<string, Json>)[key]));
        }
        assert.equal(({} as Record<string, unknown>).polluted, undefined);
      }),
      { numRuns: 200 },
    );
    const hostile = JSON.parse(
      '{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":2}},"prototype":{"polluted":3}}',
    );
    const instance = t(hostile);
    assert.equal(({} as Record<string, unknown>).polluted, undefined);
    assert.equal((Object.prototype as Record<string, unknown>).polluted, undefined);
    assert.deepEqual(Object.keys(instance.args[0] as object), ['__proto__', 'constructor', 'prototype']);
    assert.notEqual(instance, t({}));
    assert.notEqual(instance, t(JSON.parse('{"constructor":{"prototype":{"polluted":2}},"prototype":{"polluted":3}}')));
    assert.notEqual(t(JSON.parse('{"__proto__":1}')), t(JSON.parse('{"__proto__":2}')));
  });

  test('each kind of value JSON cannot hold is refused, naming the task and the exact path', () => {
    for (const [kind, make] of Object.entries(rejected)) {
      const holder: Record<string, unknown> = {};
      holder.x = make(holder);
      assertRejected(() => t({ p1: holder }), 'args[0].p1.x', kind);
      const list: unknown[] = [1];
      list.push(make(list));
      assertRejected(() => t(0, { 'odd key': list }), 'args[1]["odd key"][1]', kind);
      if (kind !== 'cycle to its holder') assertRejected(() => t(make({})), 'args[0]', kind);
    }
    const sparse = [1, 2, 3];
    delete sparse[1];
    assertRejected(() => t({ p1: { x: sparse } }), 'args[0].p1.x[1]', 'a hole in a sparse array');
    assertRejected(() => t({ p1: { x: new Array(2) } }), 'args[0].p1.x[0]', 'an empty sparse array');
    assertRejected(() => t({ p1: { x: { [Symbol('s')]: 1 } } }), 'args[0].p1.x', 'a symbol key');
    // Shared (not cyclic) references are fine: JSON would write them twice.
    const shared = { a: 1 };
    assert.equal(t([shared, shared]), t([{ a: 1 }, { a: 1 }]));
  });

  test('undefined is left out where JSON leaves it out (object properties, trailing arguments) and refused elsewhere', () => {
    assert.equal(t({ a: 1, b: undefined }), t({ a: 1 }));
    assert.deepEqual(t({ a: 1, b: undefined }).args, [{ a: 1 }]);
    assert.equal(t({ p: [{ q: undefined, r: 2 }] }), t({ p: [{ r: 2 }] }));
    assert.equal(t(1, undefined), t(1));
    assert.equal(t(1, undefined, undefined), t(1));
    assert.equal(t(undefined), t());
    assert.deepEqual(t(1, undefined).args, [1]);
    // JSON would turn these into null, another value: refused.
    assertRejected(() => t([1, undefined]), 'args[0][1]', 'undefined in an array');
    assertRejected(() => t(undefined, 1), 'args[0]', 'undefined before another argument');
    assert.throws(
      () => t(undefined, 1),
      /args\[0\] is undefined \(left out only as an object property or a trailing argument: pass null\)/,
    );
  });

  test('a refused value anywhere in a random argument is reported at its path', () => {
    const kinds = Object.keys(rejected);
    fc.assert(
      fc.property(
        jsonValue,
        fc.nat(),
        fc.constantFrom(...kinds),
        fc.string({ unit: 'binary' }),
        (value, pick, kind, key) => {
          const copy = shuffledCopy(value, pick);
          const places = containers(copy);
          const place = places[pick % Math.max(places.length, 1)];
          const make = rejected[kind] as (holder: object) => unknown;
          if (!place) {
            if (kind !== 'cycle to its holder') assertRejected(() => t(make({})), 'args[0]', kind);
            return;
          }
          const { container, path } = place;
          if (Array.isArray(container)) {
            const index = container.length === 0 ? 0 : pick % container.length;
            container[index] = make(container);
            assertRejected(() => t(copy), `${path}[${index}]`, kind);
          } else {
            define(container, key, make(container));
            assertRejected(() => t(copy), `${path}${step(key)}`, kind);
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
