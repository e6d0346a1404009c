import assert from 'node:assert/strict';
import { test } from 'node:test';
import { InvalidArgumentError, memoryStore, requires, TaskDefinitionError, task } from 'checkpoint-tool';

const square = task('req-square', (x: number) => () => x * x);
const label = task('req-label', (name: string) => () => `<${name}>`);

test('positional form passes the values in declaration order, typed', async () => {
  const pair = task('req-positional', (a: number, b: string) =>
    requires(
      square(a),
      label(b),
    )((s, l) => {
      const typed: [number, string] = [s, l];
      return typed;
    }),
  );
  assert.deepEqual(await pair(3, 'x').run({ store: memoryStore() }), [9, '<x>']);
});

test('array form passes one array in declaration order', async () => {
  const squares = task('req-array', (xs: number[]) => requires(xs.map((x) => square(x)))((values) => values));
  assert.deepEqual(await squares([1, 2, 3, 4]).run({ store: memoryStore() }), [1, 4, 9, 16]);
  const tuple = task('req-tuple', () =>
    requires([square(2), label('a')])(([s, l]) => {
      const typed: [number, string] = [s, l];
      return typed;
    }),
  );
  assert.deepEqual(await tuple().run({ store: memoryStore() }), [4, '<a>']);
});

test('object form passes one object with the same keys', async () => {
  const named = task('req-object', () =>
    requires({ s: square(5), l: label('b') })(({ s, l }) => {
      const typed: { s: number; l: string } = { s, l };
      return typed;
    }),
  );
  assert.deepEqual(await named().run({ store: memoryStore() }), { s: 25, l: '<b>' });
});

test('the same instance required twice is computed once and passed twice', async () => {
  let calls = 0;
  const counted = task('req-counted', (x: number) => () => {
    calls++;
    return x;
  });
  const twice = task('req-twice', () => requires(counted(7), counted(7))((a, b) => a + b));
  assert.equal(await twice().run({ store: memoryStore() }), 14);
  assert.equal(calls, 1);
});

test('async computations are awaited', async () => {
  const slow = task('req-async', (x: number) => async () => {
    await new Promise((resolve) => setImmediate(resolve));
    return x + 1;
  });
  const sum = task('req-async-sum', () => requires(slow(1), slow(2))((a, b) => a + b));
  assert.equal(await sum().run({ store: memoryStore() }), 5);
});

test('arguments that differ only in key order give the same instance', () => {
  const t = task('req-keys', (options: { a: number; b: { c: number; d: number[] } }) => () => options.a);
  assert.equal(t({ a: 1, b: { c: 2, d: [3] } }), t({ b: { d: [3], c: 2 }, a: 1 }));
  assert.notEqual(t({ a: 1, b: { c: 2, d: [3] } }), t({ a: 1, b: { c: 2, d: [3, 4] } }));
  assert.equal(t({ a: 1, b: { c: 2, d: [3] } }).key, '[{"a":1,"b":{"c":2,"d":[3]}}]');
});

test('arguments JSON cannot express are rejected with the task and the path', () => {
  const t = task('req-bad-args', (_x: unknown) => () => 1);
  assert.throws(() => t({ p1: { x: () => 1 } }), {
    name: 'InvalidArgumentError',
    message: /Task `req-bad-args`: args\[0\]\.p1\.x is a function/,
  });
  assert.throws(() => t([1, undefined]), InvalidArgumentError);
  assert.throws(() => t(Number.NaN), /args\[0\] is NaN/);
});

test('requires given something that is not an instance names the position and what came', () => {
  assert.throws(() => requires(square(1), 5 as never), {
    name: 'TaskDefinitionError',
    message: /requires\(\.\.\.\)\[1\]: expected a task instance.*got 5/,
  });
  assert.throws(
    () => requires({ a: square as never }),
    /requires\(\.\.\.\)\.a: .*did you pass the task instead of calling it/,
  );
  // Objects that are not plain (a promise of an instance, a Map of them) are not the object form.
  assert.throws(() => requires(Promise.resolve(square(1)) as never), {
    name: 'TaskDefinitionError',
    message: /requires\(\.\.\.\)\[0\]: expected a task instance.*got an instance of Promise/,
  });
  assert.throws(() => requires(new Map([['a', square(1)]]) as never), /\[0\]: .*got an instance of Map/);
  // A symbol key would be left out of the object passed to the computation, without a word.
  assert.throws(() => requires({ [Symbol('left')]: square(1), right: square(2) }), {
    name: 'TaskDefinitionError',
    message:
      'requires(...)[Symbol(left)]: expected a string key, got a symbol: the object form passes string keys only',
  });
  // A null-prototype object is one.
  const bare = Object.assign(Object.create(null) as object, { a: square(1) });
  assert.deepEqual(requires(bare)((values) => values).names, ['a']);
  // A symbol key that is not enumerable (a library's mark on the object) is left out as a
  // non-enumerable string key is: it names no value to pass.
  const marked = { a: square(1) };
  Object.defineProperty(marked, Symbol('mark'), { value: true });
  Object.defineProperty(marked, 'hidden', { value: true });
  assert.deepEqual(requires(marked)((values) => values).names, ['a']);
});

test('a factory that returns neither a function nor requires(...) fails the run naming the instance', async () => {
  const bad = task('req-bad-factory', (x: number) => x as never);
  await assert.rejects(bad(3).run({ store: memoryStore() }), (error: Error) => {
    assert.equal(error.name, 'TaskFailedError');
    assert.match(error.message, /req-bad-factory\(3\)/);
    assert.ok(error.cause instanceof TaskDefinitionError);
    assert.match(
      (error.cause as Error).message,
      /expected the factory to return a function or requires\(\.\.\.\)\(fn\), got 3/,
    );
    return true;
  });
});

test('bad task options are rejected with what was expected', () => {
  assert.throws(() => task('req-opt', () => () => 1, { maxConcurrency: 0 }), /`maxConcurrency`.*got 0/);
  assert.throws(() => task('req-opt', () => () => 1, { compress: 12 }), /`compress`.*got 12/);
  assert.throws(() => task('../evil', () => () => 1), /`name`.*got "\.\.\/evil"/);
  assert.throws(() => task('ok', () => () => 1, { namespace: 'a/b' }), /`namespace`.*got "a\/b"/);
});
