import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { describe, test } from 'node:test';
import { fsStore, memoryStore, SerializationError, serializer, TaskFailedError, task } from 'checkpoint-tool';
import { describeValue, Point } from './fixtures/roundtrip-values.js';
import { computedThenRead, runOnce, temporaryDir } from './helpers.js';

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

  test('plain JSON nested past what JSON.stringify takes fails with a SerializationError, not a bare RangeError', async () => {
    // The plain-JSON check recurses in JavaScript, JSON.stringify in V8's own stack: between the
    // depths where each gives up, the value passed the check and JSON.stringify threw.
    const nested = task('nested-arrays', (depth: number) => () => {
      let value: unknown = 1;
      for (let i = 0; i < depth; i++) value = [value];
      return value;
    });
    for (const depth of [1_000, 3_000, 5_000, 7_000, 10_000, 20_000, 50_000]) {
      const store = memoryStore();
      const outcome = await nested(depth)
        .run({ store })
        .then(
          () => 'stored',
          (error: unknown) => error,
        );
      if (outcome === 'stored') continue;
      assert.ok(outcome instanceof TaskFailedError, `depth ${depth}: ${outcome}`);
      assert.ok(outcome.cause instanceof SerializationError, `depth ${depth}: ${outcome.cause}`);
      assert.equal(
        outcome.cause.message,
        'value could not be stored: it is nested too deeply (objects and arrays within each other)',
      );
      assert.deepEqual(await store.keys(nested.id), []);
    }
  });

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

  test('an identifier another class or symbol holds is refused: the values stored as the first would come back as the second', async () => {
    class Meters {
      m = 1;
    }
    class Feet {
      ft = 3;
    }
    serializer.registerClass(Meters, { identifier: 'length-unit' });
    assert.throws(() => serializer.registerClass(Feet, { identifier: 'length-unit' }), {
      name: 'CheckpointError',
      message:
        'serializer.registerClass(Feet): the identifier `length-unit` is taken by the class Meters, whose stored values would come back as Feet: give each class an identifier of its own',
    });
    assert.throws(() => serializer.registerClass(undefined as never), {
      name: 'CheckpointError',
      message: 'serializer.registerClass(): expected a class, got undefined',
    });
    const north = Symbol('north');
    serializer.registerSymbol(north, 'direction');
    assert.throws(() => serializer.registerSymbol(Symbol('south'), 'direction'), {
      name: 'CheckpointError',
      message:
        'serializer.registerSymbol(Symbol(south)): the identifier `direction` is taken by Symbol(north), whose stored values would come back as Symbol(south): give each symbol an identifier of its own',
    });
    // A class or symbol made again under its own name (a notebook cell run twice) replaces the earlier one.
    const Again = class Meters {
      m = 2;
    };
    serializer.registerClass(Again, { identifier: 'length-unit' });
    serializer.registerSymbol(Symbol('north'), 'direction');
    const store = memoryStore();
    const measure = task('measure-unit', () => () => new Meters());
    assert.ok((await computedThenRead(measure(), store)) instanceof Again);
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
