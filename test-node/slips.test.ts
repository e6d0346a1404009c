import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import {
  InvalidArgumentError,
  inProcess,
  memoryStore,
  requires,
  SerializationError,
  TaskDefinitionError,
  TaskFailedError,
  task,
} from 'checkpoint-tool';

// The slips of someone trying things out (a notebook, a REPL): each error says what was likely meant.

const source = task('slip-source', (x: number) => () => x * 2);

let slips = 0;

/** Runs a task of no arguments and returns its failure's cause, checking its class. */
async function causeOf(slip: () => unknown, kind: typeof TaskDefinitionError | typeof SerializationError) {
  const made = task(`slip-${++slips}`, slip as () => () => unknown);
  let cause: unknown;
  await assert.rejects(made().run({ store: memoryStore() }), (error: unknown) => {
    assert.ok(error instanceof TaskFailedError, String(error));
    cause = error.cause;
    return true;
  });
  assert.ok(cause instanceof kind, String(cause));
  return (cause as Error).message;
}

test('an instance or a promise passed as an argument: the error says to require it, or to await', () => {
  const user = task('slip-user', (_value: unknown) => () => 1);
  assert.throws(() => user(source(1)), {
    name: 'InvalidArgumentError',
    message:
      'Task `slip-user`: args[0] is the task instance slip-source(1): to compute with its value, require it in the factory, as in requires(slip-source(1))((value) => ...); task arguments must be JSON values',
  });
  assert.throws(
    () => user({ input: Promise.resolve(2) }),
    (error: unknown) => {
      assert.ok(error instanceof InvalidArgumentError);
      assert.match(
        error.message,
        /^Task `slip-user`: args\[0\]\.input is an instance of Promise, not a plain object \(not awaited\?\)/,
      );
      return true;
    },
  );
});

test('a factory that returns a promise (an async factory), an instance or a value: the error says what to return', async () => {
  assert.match(
    await causeOf(async () => () => 1, TaskDefinitionError),
    /got an instance of Promise: an async factory\? A factory returns its computation at once; make the computation async instead/,
  );
  assert.match(
    await causeOf(() => source(1), TaskDefinitionError),
    /got an instance of Instance: to compute with that instance's value, require it, as in requires\(slip-source\(1\)\)\(\(value\) => value\)$/,
  );
  assert.match(
    await causeOf(() => 42, TaskDefinitionError),
    /got 42: a factory returns the function that computes the value, as in `\(x\) => \(\) => x \* 2`$/,
  );
});

test('a computation that returns an instance, or a promise inside its value: the error says to require, or to await', async () => {
  assert.equal(
    await causeOf(() => () => [source(1)], SerializationError),
    'value[0] is the task instance slip-source(1), not its value: to compute with its value, require it, as in requires(slip-source(1))((value) => ...)',
  );
  const store = memoryStore();
  assert.equal(
    await causeOf(() => () => ({ data: source(2).run({ store }) }), SerializationError),
    "value.data is a Promise, which cannot be stored: await it (a computation's own promise is awaited, not one inside its value)",
  );
});

test('a computation that returns requires(...)(fn), sync or async: the error says requires belongs in the factory', async () => {
  const expected =
    'value is requires(...)(fn), which a factory returns, not a computation: call requires in the factory, as in `(x) => requires(other(x))((value) => ...)`';
  assert.equal(await causeOf(() => () => requires(source(1))((v) => v), SerializationError), expected);
  assert.equal(await causeOf(() => async () => requires(source(1))((v) => v), SerializationError), expected);
});

test('requires given an iterator, a Set or nested arrays: the error says to give one flat array', () => {
  function* instances() {
    yield source(1);
  }
  assert.throws(() => requires(instances() as never), {
    name: 'TaskDefinitionError',
    message:
      'requires(...)[0]: expected a task instance, such as `myTask(1, 2)`, got an iterator: spread it into an array, as in requires([...instances])',
  });
  assert.throws(() => requires(new Set([source(1)]) as never), {
    message: /got an instance of Set: spread it into an array, as in requires\(\[\.\.\.instances\]\)$/,
  });
  assert.throws(() => requires([source(1), [source(2)]] as never), {
    message:
      'requires(...)[1]: expected a task instance, such as `myTask(1, 2)`, got an array: requires takes instances, or one array or one object of them, not arrays of arrays',
  });
});

test('an instance made by another copy of checkpoint-tool (two copies installed) is named as such, not as an instance of Instance', async () => {
  // What another copy's instance looks like from this one: its own class, also named Instance.
  class Instance {
    readonly task = { id: 'fit' };
    readonly label = 'fit(1)';
    readonly key = '[1]';
    run() {}
  }
  const stranger = new Instance();
  // A class of the user's that is only named so is not taken for one.
  class Other {
    readonly label = 'fit(1)';
    readonly key = '[1]';
  }
  Object.defineProperty(Other, 'name', { value: 'Instance' });
  assert.throws(() => requires(new Other() as never), /got an instance of Instance$/);
  assert.throws(() => requires(stranger as never), {
    name: 'TaskDefinitionError',
    message:
      'requires(...)[0]: expected a task instance, such as `myTask(1, 2)`, got the task instance fit(1) of another copy of checkpoint-tool: this process loaded the library twice (see `npm ls checkpoint-tool`), and one copy cannot run the tasks of the other',
  });
  assert.equal(
    await causeOf(() => () => ({ model: stranger }), SerializationError),
    'value.model is the task instance fit(1) of another copy of checkpoint-tool: this process loaded the library twice (see `npm ls checkpoint-tool`), and one copy cannot run the tasks of the other',
  );
  class Computation {}
  assert.match(
    await causeOf(() => new Computation(), TaskDefinitionError),
    /got an instance of Computation: requires\(\.\.\.\)\(fn\) of another copy of checkpoint-tool\? This process loaded the library twice/,
  );
  assert.throws(() => source(stranger as never), {
    name: 'InvalidArgumentError',
    message:
      'Task `slip-source`: args[0] is the task instance fit(1) of another copy of checkpoint-tool: this process loaded the library twice (see `npm ls checkpoint-tool`), and one copy cannot run the tasks of the other; task arguments must be JSON values',
  });
});

test('a class given as the factory is refused when the task is declared, not when a run calls it', () => {
  class Fit {
    readonly x: number;
    constructor(x: number) {
      this.x = x;
    }
  }
  assert.throws(() => task('slip-class', Fit as never), {
    name: 'TaskDefinitionError',
    message:
      'Task `slip-class`: expected the factory to be a function, got the class Fit: a factory is called, not constructed, and returns the function that computes the value, as in `(x) => () => x * 2`',
  });
});

test('a function whose source starts with `class` but that is no class is a factory like another', async () => {
  // A method named `class` (its source is `class(x) { ... }`), an arrow whose parameter is `class$`.
  const factories = {
    class(x: number) {
      return () => x * 3;
    },
  };
  const arrow = new Function('return class$ => () => class$ + 1')() as (x: number) => () => number;
  const store = memoryStore();
  assert.equal(await task('slip-method-class', factories.class)(2).run({ store }), 6);
  assert.equal(await task('slip-param-class', arrow)(2).run({ store }), 3);
});

test('run() or clear() taken off their instance (`.then(x.run)`) say to call them on it, not a TypeError reading `label`', async () => {
  const store = memoryStore();
  const { run, clear } = source(4);
  await assert.rejects(run({ store }), {
    name: 'TaskDefinitionError',
    message:
      'run() was called without its instance (taken off it, as in `.then(x.run)`): call it on the instance, as in `x.run()`',
  });
  await assert.rejects(clear({ store }), {
    name: 'TaskDefinitionError',
    message:
      'clear() was called without its instance (taken off it, as in `.then(x.clear)`): call it on the instance, as in `x.clear()`',
  });
});

test('inProcess() given options says it takes none, and where a limit goes', async () => {
  assert.throws(() => (inProcess as (options: unknown) => unknown)({ concurrency: 2 }), {
    name: 'TaskDefinitionError',
    message:
      "inProcess(): expected no options, got an object with concurrency: to limit how many instances of a task compute at once, give the task a `maxConcurrency`, or use a pool's `size`",
  });
});

test('requires given what run() returns, and run() or clear() given the store itself: the error says what to pass', async () => {
  const store = memoryStore();
  assert.throws(() => requires(source(3).run({ store }) as never), {
    name: 'TaskDefinitionError',
    message: /got an instance of Promise \(pass the instance itself, not what its run\(\) returns\)$/,
  });
  await assert.rejects(source(3).run(store as never), {
    name: 'TaskDefinitionError',
    message: 'slip-source(3).run(): expected the options, got a store: pass it as { store }',
  });
  await assert.rejects(source.clear(store as never), {
    name: 'TaskDefinitionError',
    message: 'slip-source.clear(): expected the options, got a store: pass it as { store }',
  });
});

test('an object whose prototype is another object (Object.create, a __proto__ key) is not called an instance of Object', async () => {
  const user = task('slip-proto', (_value: unknown) => () => 1);
  assert.throws(() => user({ at: Object.create({ x: 1 }) }), {
    name: 'InvalidArgumentError',
    message:
      'Task `slip-proto`: args[0].at is an object whose prototype is another object, not a plain object; task arguments must be JSON values',
  });
  assert.equal(
    await causeOf(() => () => ({ node: { tagName: 'DIV', __proto__: { appendChild() {} } } }), SerializationError),
    'value.node is an object whose prototype is another object (made by Object.create, or a __proto__ key), which cannot be stored: copy what it holds into a plain object',
  );
});

test('a plain object of another realm (a vm context, as some notebooks run cells) is a plain object as an argument, and named as such in a result', async () => {
  const user = task('slip-realm', (options: { lr: number; xs: number[] }) => () => options.xs.length * options.lr);
  const foreign = runInNewContext('({ xs: [1, 2], lr: 0.5 })') as { lr: number; xs: number[] };
  assert.notEqual(Object.getPrototypeOf(foreign), Object.prototype);
  assert.equal(user(foreign), user({ lr: 0.5, xs: [1, 2] }), 'the same instance as for the same object made here');
  assert.equal(await user(foreign).run({ store: memoryStore() }), 1);
  assert.equal(
    await causeOf(() => () => ({ fit: foreign }), SerializationError),
    'value.fit is a plain object of another realm (a vm context, an iframe), which superjson takes for an instance of an unknown class: make it in this realm (structuredClone(value) does)',
  );
});
