import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryStore, type RunOptions, TaskDefinitionError, task } from 'checkpoint-tool';

let computed = 0;
const counted = task('run-options-counted', (x: number) => () => {
  computed++;
  return x;
});

/** Options as a JavaScript caller, or a cast, could pass them. */
const loose = (options: unknown) => options as RunOptions;

test('run options that are unknown or of the wrong kind reject naming the call and the option, before anything is computed', async () => {
  const cases: [unknown, RegExp][] = [
    [
      { strore: memoryStore() },
      /unknown option `strore`; the options are executor, store, onEvent, keepGoing, signal$/,
    ],
    [{ bogus: 1, other: 2 }, /unknown options `bogus`, `other`/],
    [{ keepGoing: 'yes' }, /expected `keepGoing` to be a boolean, got "yes"$/],
    [
      { store: {} },
      /expected `store` to be a Store \(with readMeta, readValue, write, delete, clear, keys\), got an object with no properties$/,
    ],
    [{ onEvent: 5 }, /expected `onEvent` to be a function, got 5$/],
    [{ signal: { aborted: false } }, /expected `signal` to be an AbortSignal/],
    // Half a signal: the run would fail later, removing its listener.
    [{ signal: { aborted: false, addEventListener() {} } }, /expected `signal` to be an AbortSignal/],
    [{ signal: new AbortController() }, /expected `signal` to be an AbortSignal, got an instance of AbortController$/],
    [{ store: memoryStore }, /expected `store` to be a Store .*, got the function memoryStore \(not called\?\)$/],
    [{ executor: { concurrency: '2', execute: () => 0 } }, /expected `executor` to be an Executor/],
    [{ executor: { concurrency: 0, execute: () => 0 } }, /expected `executor` to be an Executor/],
    [{ executor: null }, /expected `executor` to be an Executor .*, got null$/],
    // The optional methods of a store, when there, are functions: called later, they would throw a TypeError.
    [
      { store: { ...memoryStore(), readMetas: 5 } },
      /expected `store.readMetas` to be a function \(or absent\), got 5$/,
    ],
    [{ store: { ...memoryStore(), lock: true } }, /expected `store.lock` to be a function \(or absent\), got true$/],
    [{ executor: 4 }, /expected `executor` to be an Executor .*, got 4$/],
    [null, /expected the options to be an object, got null$/],
    [[], /expected the options to be an object, got an array$/],
  ];
  for (const [options, message] of cases) {
    await assert.rejects(counted(1).run(loose(options)), (error: unknown) => {
      assert.ok(error instanceof TaskDefinitionError, String(error));
      assert.ok(error.message.startsWith('run-options-counted(1).run(): '), error.message);
      assert.match(error.message, message);
      return true;
    });
  }
  assert.equal(computed, 0);
  // Options given as undefined are options not given.
  assert.equal(await counted(2).run({ store: memoryStore(), executor: undefined, onEvent: undefined }), 2);
  assert.equal(computed, 1);
  // A store's optional method given as null or false is absent, as the run takes it (`lock: cond && fn`).
  assert.equal(await counted(3).run(loose({ store: { ...memoryStore(), lock: null, readMetas: false } })), 3);
  assert.equal(computed, 2);
});

test('clear options are checked the same way, for an instance and for a task', async () => {
  const store = memoryStore();
  await counted(3).run({ store });
  await assert.rejects(counted(3).clear(loose({ stor: store })), {
    name: 'TaskDefinitionError',
    message: 'run-options-counted(3).clear(): unknown option `stor`; the options are store',
  });
  await assert.rejects(counted.clear(loose({ store: 'memory' })), {
    name: 'TaskDefinitionError',
    message: /^run-options-counted\.clear\(\): expected `store` to be a Store .*, got "memory"$/,
  });
  // Nothing was cleared.
  assert.notEqual(await store.readMeta('run-options-counted', '[3]'), undefined);
});
