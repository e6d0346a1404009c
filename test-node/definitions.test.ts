import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  CheckpointError,
  InvalidArgumentError,
  memoryStore,
  requires,
  type Store,
  TaskDefinitionError,
  task,
} from 'checkpoint-tool';
import { recorder } from './helpers.js';

test('task options: a misspelt or unknown option, a version that is not a string and an id too long to be a folder are errors naming the task', () => {
  assert.throws(() => task('def-unknown', () => () => 1, { compres: true } as never), {
    name: 'TaskDefinitionError',
    message:
      'Task `def-unknown`: unknown option `compres`; the options are compress, maxConcurrency, namespace, version',
  });
  assert.throws(() => task('def-version', () => () => 1, { version: 2 } as never), {
    name: 'TaskDefinitionError',
    message: 'Task `def-version`: expected `version` to be a string, got 2',
  });
  assert.throws(() => task('def-version', () => () => 1, { version: null } as never), /got null/);
  // null is a value of the wrong kind for every option, as for `version`, not the default.
  assert.throws(
    () => task('def-null', () => () => 1, { maxConcurrency: null } as never),
    /^TaskDefinitionError: Task `def-null`: expected `maxConcurrency` to be a whole number from 1 and up, got null$/,
  );
  assert.throws(() => task('def-null', () => () => 1, { compress: null } as never), /expected `compress` .* got null$/);
  assert.throws(() => task('def-options', () => () => 1, null as never), TaskDefinitionError);
  assert.throws(() => task('x'.repeat(129), () => () => 1), /at most 128 characters, got 129/);
  assert.throws(
    () => task('y'.repeat(100), () => () => 1, { namespace: 'z'.repeat(28) }),
    /at most 128 characters, got 129/,
  );
  assert.equal(task('x'.repeat(128), () => () => 1).id.length, 128);
});

test('a name or namespace that is not a string is shown as what it is: a bigint, a symbol', () => {
  assert.throws(() => task(1n as never, () => () => 1), {
    name: 'TaskDefinitionError',
    message: 'Task: expected `name` to be letters, digits, _ and - (not leading -), got 1n',
  });
  assert.throws(() => task(Symbol('fit') as never, () => () => 1), {
    name: 'TaskDefinitionError',
    message: 'Task: expected `name` to be letters, digits, _ and - (not leading -), got Symbol(fit)',
  });
  assert.throws(() => task('def-ns', () => () => 1, { namespace: 2n as never }), {
    name: 'TaskDefinitionError',
    message: 'Task `def-ns`: expected `namespace` to be letters, digits, _ and - (not leading -), got 2n',
  });
  // Strings are quoted, as before.
  assert.throws(() => task('a.b', () => () => 1), /got "a\.b"$/);
});

test('arguments nested deeper than the stack allows are an InvalidArgumentError naming the task', () => {
  const t = task('def-deep', (_value: unknown) => () => 1);
  let deep: unknown = 1;
  for (let i = 0; i < 100_000; i++) deep = [deep];
  assert.throws(
    () => t(deep),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError, String(error));
      assert.equal(error.message, 'Task `def-deep`: args is nested too deeply; task arguments must be JSON values');
      return true;
    },
  );
});

test('an argument whose getter or proxy throws is an InvalidArgumentError naming the task and the path, with the error as cause', () => {
  const t = task('def-getter', (_value: unknown) => () => 1);
  const boom = new Error('boom');
  assert.throws(
    () =>
      t({
        nested: {
          get x() {
            throw boom;
          },
        },
      }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError, String(error));
      assert.equal(
        error.message,
        'Task `def-getter`: args[0].nested.x could not be read: Error: boom; task arguments must be JSON values',
      );
      assert.equal(error.path, 'args[0].nested.x');
      assert.equal(error.cause, boom);
      return true;
    },
  );
  const hostile = new Proxy(
    {},
    {
      ownKeys() {
        throw new TypeError('no keys');
      },
    },
  );
  assert.throws(() => t([hostile]), {
    name: 'InvalidArgumentError',
    message: 'Task `def-getter`: args could not be read: TypeError: no keys; task arguments must be JSON values',
  });
  // A RangeError of the trap's own is not the stack running out.
  const ranged = new Proxy(
    {},
    {
      ownKeys() {
        throw new RangeError('out of range');
      },
    },
  );
  assert.throws(() => t([ranged]), {
    name: 'InvalidArgumentError',
    message: 'Task `def-getter`: args could not be read: RangeError: out of range; task arguments must be JSON values',
  });
});

test('a store that cannot read a task’s results fails the run naming the task, and loses nothing', async () => {
  const inner = memoryStore();
  const part = task('def-part', (i: number) => () => i);
  const whole = task('def-whole', () => requires(part(1), part(2))((a, b) => a + b));
  assert.equal(await whole().run({ store: inner }), 3);
  let broken = true;
  const fail = (folder: string) => {
    if (broken && folder === 'def-part')
      throw Object.assign(new Error('EACCES: permission denied'), { code: 'EACCES' });
  };
  // Through readMetas, and through readMeta for a store without it.
  const batched: Store = {
    ...inner,
    readMetas: async (folder, keys) => {
      fail(folder);
      return (await inner.readMetas?.(folder, keys)) ?? [];
    },
  };
  const single: Store = {
    ...inner,
    readMetas: undefined,
    readMeta: async (folder, key) => {
      fail(folder);
      return inner.readMeta(folder, key);
    },
  };
  for (const store of [batched, single]) {
    await assert.rejects(whole().run({ store }), (error: unknown) => {
      assert.ok(error instanceof CheckpointError, String(error));
      assert.equal(
        error.message,
        'Task `def-part`: reading its cached results failed: Error: EACCES: permission denied',
      );
      assert.equal((error.cause as { code?: string }).code, 'EACCES');
      return true;
    });
  }
  broken = false;
  const events = recorder();
  assert.equal(await whole().run({ store: batched, onEvent: events.onEvent }), 3);
  assert.deepEqual(events.labels('cached').sort(), ['def-part(1)', 'def-part(2)', 'def-whole()']);
});

test('requires in object form passes a key named __proto__ as any other', async () => {
  const value = task('def-proto-value', (x: number) => () => x);
  const both = task('def-proto', () =>
    requires({ ['__proto__']: value(7), x: value(8) })((named) => Object.entries(named)),
  );
  assert.deepEqual(await both().run({ store: memoryStore() }), [
    ['__proto__', 7],
    ['x', 8],
  ]);
});

test('odd inputs still give messages: a thrown object without prototype or a plain one, a label cut inside an emoji, symbols as options', async () => {
  const bare = task('def-bare-throw', () => () => {
    throw Object.create(null);
  });
  await assert.rejects(
    bare().run({ store: memoryStore() }),
    /^TaskFailedError: def-bare-throw\(\) failed: \[object Object\]/,
  );
  // A plain object thrown (as some libraries reject) shows what it holds, not `[object Object]`.
  const plain = task('def-plain-throw', () => () => Promise.reject({ status: 404, url: '/x' }));
  await assert.rejects(plain().run({ store: memoryStore() }), {
    message: 'def-plain-throw() failed: {"status":404,"url":"/x"}',
  });
  // Without what it carries under credential names: messages get logged.
  const request = {
    url: '/x',
    headers: { Authorization: 'Bearer abc', 'X-Api-Key': 'k1' },
    password: 'p',
    user: 'ann',
  };
  const secret = task('def-secret-throw', () => () => Promise.reject({ status: 401, request }));
  await assert.rejects(secret().run({ store: memoryStore() }), {
    message:
      'def-secret-throw() failed: {"status":401,"request":{"url":"/x","headers":{"Authorization":"[hidden]","X-Api-Key":"[hidden]"},"password":"[hidden]","user":"ann"}}',
  });
  // A large one costs what its first 200 characters do, not a walk of all of it (a rejected
  // response with its rows): each row read counts.
  let read = 0;
  const row = { toJSON: () => ++read };
  const large = task('def-large-throw', () => () => Promise.reject({ status: 500, rows: Array(100_000).fill(row) }));
  await assert.rejects(large().run({ store: memoryStore() }), {
    message: /^def-large-throw\(\) failed: \{"status":500,"rows":\[1,2,3,[\d,]+\.\.\.$/,
  });
  assert.ok(read < 1000, `${read} rows read`);
  const emoji = task('def-emoji', (_text: string) => () => 1);
  // The key is `["aaa...😀..."]`: cut at 200 characters of arguments, right inside the emoji.
  const label = emoji(`${'a'.repeat(198)}😀tail`).label;
  assert.equal(label, `def-emoji("${'a'.repeat(198)}...)`);
  assert.doesNotMatch(label, /[\uD800-\uDBFF](?![\uDC00-\uDFFF])/, 'no lone half of a surrogate pair');
  assert.throws(() => task('def-symbol', () => () => 1, { maxConcurrency: Symbol('m') } as never), {
    name: 'TaskDefinitionError',
    message: /got Symbol\(m\)/,
  });
  assert.throws(
    () => task('def-array', () => () => 1, [] as never),
    /expected the options to be an object, got an array/,
  );
});
