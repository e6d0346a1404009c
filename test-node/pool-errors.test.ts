import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  AbortError,
  CheckpointError,
  inProcess,
  memoryStore,
  nodePool,
  type RunEvent,
  RunFailedError,
  SerializationError,
  TaskDefinitionError,
  TaskFailedError,
  task,
} from 'checkpoint-tool';
import { failing, gatedFetch, QuotaError, square, sumOfSquares } from './fixtures/pool-tasks.js';

const tasksModule = new URL('./fixtures/pool-tasks.ts', import.meta.url);
const pool = nodePool(tasksModule, { size: 2 });
after(() => pool.close());

/** Runs an instance on the pool and in process; returns both rejections' causes. */
async function causes(how: string): Promise<[unknown, unknown]> {
  const inWorker = await failing(how)
    .run({ executor: pool, store: memoryStore() })
    .catch((error) => error);
  const inMain = await failing(how)
    .run({ executor: inProcess(), store: memoryStore() })
    .catch((error) => error);
  assert.ok(inWorker instanceof TaskFailedError);
  assert.ok(inMain instanceof TaskFailedError);
  assert.equal(inWorker.task, inMain.task);
  assert.deepEqual(inWorker.args, inMain.args);
  return [inWorker.cause, inMain.cause];
}

test('an error thrown in a worker keeps its class name, message, stack, cause and properties', async () => {
  const [cause, original] = await causes('custom');
  assert.ok(cause instanceof Error && original instanceof Error);
  // In process its `name` is the inherited 'Error'; from a worker, the class name tells more.
  assert.equal(original.name, 'Error');
  assert.equal(cause.name, 'FitError');
  assert.equal(cause.message, 'the fit diverged');
  assert.equal((cause as Error & { code?: string }).code, 'E_FIT');
  assert.match(cause.stack ?? '', /pool-tasks\.ts/);
  assert.ok(cause.cause instanceof TypeError);
  assert.equal(cause.cause.message, 'bad start value');
  assert.equal((original.cause as Error).message, cause.cause.message);
});

test('built-in error classes come back as themselves; other thrown values as they were', async () => {
  const [range] = await causes('range');
  assert.ok(range instanceof RangeError);
  assert.equal(range.message, 'out of range');
  assert.equal(range.name, 'RangeError');
  const [thrown, original] = await causes('string');
  assert.equal(thrown, 'just a string');
  assert.equal(thrown, original);
});

test('an error of a class registered on the serializer comes back as that class, as in process', async () => {
  const [cause, original] = await causes('registered');
  assert.ok(original instanceof QuotaError);
  assert.ok(cause instanceof QuotaError, `came back as ${cause}`);
  assert.equal(cause.name, 'QuotaError');
  assert.equal(cause.message, 'over quota');
  assert.equal(cause.limit, 10);
  assert.match(cause.stack ?? '', /pool-tasks\.ts/);
  assert.ok(cause.cause instanceof QuotaError);
  assert.equal(cause.cause.limit, 5);
  const [wrapper] = await causes('registered-inside');
  assert.ok(wrapper instanceof TypeError);
  assert.ok(wrapper.cause instanceof QuotaError, `its cause came back as ${wrapper.cause}`);
  assert.equal(wrapper.cause.message, 'deep');
});

test('a DOMException (an aborted fetch) comes back as a DOMException, not as this AbortError', async () => {
  const [cause, original] = await causes('fetch');
  assert.ok(original instanceof DOMException && original.name === 'AbortError');
  assert.ok(cause instanceof DOMException, `came back as ${cause}`);
  assert.ok(!(cause instanceof CheckpointError));
  assert.equal(cause.name, original.name);
  assert.equal(cause.message, original.message);
  assert.equal(cause.code, DOMException.ABORT_ERR);
});

test("only this library's AbortError comes back as it; another error named AbortError does not", async () => {
  const [own, ownInMain] = await causes('abort');
  assert.ok(own instanceof AbortError && ownInMain instanceof AbortError);
  assert.equal(own.message, 'a nested run was cancelled');
  const [lookalike, lookalikeInMain] = await causes('lookalike');
  assert.ok(!(lookalikeInMain instanceof CheckpointError));
  assert.ok(lookalike instanceof Error && !(lookalike instanceof CheckpointError), `came back as ${lookalike}`);
  assert.equal(lookalike.name, 'AbortError');
  assert.equal(lookalike.message, 'gave up retrying');
});

test("this library's errors without a class of their own in the wire come back as CheckpointErrors, named as they were", async () => {
  const [nested, inMain] = await causes('nested');
  assert.ok(inMain instanceof TaskFailedError);
  assert.ok(nested instanceof CheckpointError, `came back as ${nested}`);
  assert.equal(nested.name, 'TaskFailedError');
  assert.equal(nested.message, inMain.message);
  assert.equal((nested as CheckpointError & { task?: string }).task, 'inner');
  assert.ok(nested.cause instanceof RangeError);
});

test('an error that is its own cause comes back with its message, the loop cut', async () => {
  const [looping] = await causes('self-cause');
  assert.ok(looping instanceof Error, `came back as ${looping}`);
  assert.equal(looping.message, 'its own cause');
  assert.equal(looping.cause, 'Error: its own cause');
});

test("a run cancelled while a worker's fetch aborts reports that instance failed, not skipped", async () => {
  const gate = new BroadcastChannel(`gate-${Math.random()}`);
  const waiting = new Promise<void>((resolve) => {
    gate.onmessage = (event: MessageEvent) => event.data === 'waiting' && resolve();
  });
  const controller = new AbortController();
  const events: RunEvent[] = [];
  const run = gatedFetch(gate.name).run({
    executor: pool,
    store: memoryStore(),
    signal: controller.signal,
    onEvent: (e) => events.push(e),
  });
  await waiting;
  controller.abort();
  gate.postMessage('go');
  gate.close();
  const error = await run.catch((e) => e);
  // The scheduler skips an instance that rejects with this library's AbortError after the
  // run's signal fired: an aborted fetch must not pass for one.
  assert.ok(error instanceof TaskFailedError, `the run rejected with ${error}`);
  assert.ok(error.cause instanceof DOMException && error.cause.name === 'AbortError');
  assert.deepEqual(
    events.filter((e) => e.type !== 'planned').map((e) => e.type),
    ['started', 'failed'],
  );
});

test('a task the worker does not define fails with a TaskDefinitionError', async () => {
  const local = task('onlyInMain', () => () => 1, { namespace: 'poolErrors' });
  const error = await local()
    .run({ executor: pool, store: memoryStore() })
    .catch((e) => e);
  assert.ok(error instanceof TaskFailedError);
  assert.ok(error.cause instanceof TaskDefinitionError);
  assert.match(error.cause.message, /`poolErrors.onlyInMain` is not defined here/);
});

test('a value that cannot be stored fails its job only, as in process', async () => {
  // A function is not cloned and fails in the worker as the cache would refuse it in process.
  const [cause, original] = await causes('function');
  assert.ok(cause instanceof SerializationError && original instanceof SerializationError);
  assert.equal(cause.message, 'value is a function, which cannot be stored');
  assert.equal(cause.message, original.message);
  assert.equal((await square(3).run({ executor: pool, store: memoryStore() })).value, 9);
});

for (const [how, why] of [
  ['exit', /exited with code 7/],
  ['uncaught', /thrown from a timer/],
] as const) {
  test(`a worker that dies (${how}) fails its job only, and is replaced`, async () => {
    const solo = nodePool(tasksModule, { size: 1, name: how });
    try {
      const workers: string[] = [];
      const onEvent = (e: RunEvent) => e.type === 'started' && workers.push(e.worker);
      const error = await failing(how)
        .run({ executor: solo, store: memoryStore(), onEvent })
        .catch((e) => e);
      assert.ok(error instanceof TaskFailedError);
      assert.ok(error.cause instanceof CheckpointError);
      assert.match(error.cause.message, new RegExp(`${how}-1 stopped while computing pool.failing\\("${how}"\\)`));
      assert.match(error.cause.message, why);
      const after = await square(4).run({ executor: solo, store: memoryStore(), onEvent });
      assert.equal(after.value, 16);
      assert.deepEqual(workers, [`${how}-1`, `${how}-2`]);
    } finally {
      await solo.close();
    }
  });
}

test('a worker out of memory (resourceLimits) fails its job only; the others finish', async () => {
  const limited = nodePool(tasksModule, { size: 2, resourceLimits: { maxOldGenerationSizeMb: 32 } });
  try {
    const [oom, fine] = await Promise.allSettled([
      failing('oom').run({ executor: limited, store: memoryStore() }),
      square(5).run({ executor: limited, store: memoryStore() }),
    ]);
    assert.equal(oom.status, 'rejected');
    assert.match(String((oom as PromiseRejectedResult).reason.cause), /memory/i);
    assert.equal(fine.status === 'fulfilled' && fine.value.value, 25);
    assert.equal((await square(6).run({ executor: limited, store: memoryStore() })).value, 36);
  } finally {
    await limited.close();
  }
});

test('a module that cannot be loaded fails each job instead of hanging, and a run that keeps going does not start two workers per job', async () => {
  const broken = nodePool(new URL('./fixtures/pool-throws-on-load.js', import.meta.url), { size: 1 });
  try {
    const error = await square(0)
      .run({ executor: broken, store: memoryStore() })
      .catch((e) => e);
    assert.ok(error instanceof TaskFailedError && error.cause instanceof CheckpointError);
    const stoppedTwice =
      /worker-2 stopped before starting pool\.square\(0\), as worker-1 did before it: .*the tasks module failed as it loaded/;
    assert.match(error.cause.message, stoppedTwice);
    // Twenty more jobs at once: those posted within a second of that failure fail without a worker.
    const workers = new Set<string>();
    const run = await sumOfSquares(20)
      .run({
        executor: broken,
        store: memoryStore(),
        keepGoing: true,
        onEvent: (event) => event.type === 'started' && workers.add(event.worker),
      })
      .catch((e) => e);
    assert.ok(run instanceof RunFailedError);
    assert.equal(run.failures.length, 20);
    for (const failure of run.failures) {
      assert.match(
        failure.message,
        /pool\.square\(\d+\) was not started: the pool's workers stop before starting their jobs \(worker-\d+ stopped before starting pool\.square\(\d+\), as worker-\d+ did before it: .*\); it starts new ones for jobs posted from 1000 ms after the last one stopped|stopped before starting/,
      );
    }
    // Without the pause, 40 workers; a machine stalled for over a second may start a few.
    assert.ok(workers.size < 10, `${workers.size} workers started for 20 jobs`);
    assert.ok(run.failures.some((failure) => /was not started/.test(failure.message)));
  } finally {
    await broken.close();
  }
});

test('a tasks module or setup module that does not exist is refused by nodePool(), before any worker starts', () => {
  const missing = new URL('./fixtures/does-not-exist.js', import.meta.url);
  const message = (option: string, path: string, typeScript: string) =>
    `nodePool(): \`${option}\` names ${path}, which does not exist${typeScript}`;
  assert.throws(
    () => nodePool(missing),
    new CheckpointError(
      message('moduleUrl', fileURLToPath(missing), ', nor does does-not-exist.ts or does-not-exist.tsx'),
    ),
  );
  const tasks = new URL('./fixtures/pool-tasks.ts', import.meta.url);
  const setup = fileURLToPath(new URL('./fixtures/no-setup.mts', import.meta.url));
  assert.throws(() => nodePool(tasks, { setup: [setup] }), new CheckpointError(message('setup', setup, '')));
});

test('the tasks module must be given as a URL or an absolute path', () => {
  assert.throws(
    () => nodePool('./fixtures/pool-tasks.ts'),
    /pass new URL\("\.\/fixtures\/pool-tasks\.ts", import\.meta\.url\)/,
  );
});

test('a tasks module or setup module of the wrong kind (undefined, a number, an object) says so, not a TypeError about paths', () => {
  const module = new URL('./fixtures/pool-tasks.ts', import.meta.url);
  const cases: [() => unknown, RegExp][] = [
    [
      () => nodePool(undefined as never),
      /^nodePool\(\): expected `moduleUrl` to be a URL or an absolute path, got undefined$/,
    ],
    [() => nodePool(3 as never), /^nodePool\(\): expected `moduleUrl` to be a URL or an absolute path, got 3$/],
    [
      () => nodePool({ href: 'x' } as never),
      /^nodePool\(\): expected `moduleUrl` to be a URL or an absolute path, got an object with href$/,
    ],
    [
      () => nodePool(module, { setup: 5 as never }),
      /^nodePool\(\): expected `setup` to be a URL or an absolute path, got 5$/,
    ],
    [
      () => nodePool(module, { setup: [null] as never }),
      /^nodePool\(\): expected `setup` to be a URL or an absolute path, got null$/,
    ],
  ];
  for (const [make, message] of cases) {
    assert.throws(make, (error: unknown) => {
      assert.ok(error instanceof CheckpointError, String(error));
      assert.match(error.message, message);
      return true;
    });
  }
});

test('resourceLimits with a misspelt limit, or a limit that is not a number, is refused: the workers would run unlimited', () => {
  const module = new URL('./fixtures/pool-tasks.ts', import.meta.url);
  assert.throws(() => nodePool(module, { resourceLimits: { maxOldSpaceSizeMb: 64 } as never }), {
    name: 'TaskDefinitionError',
    message:
      'nodePool(): `resourceLimits`: unknown option `maxOldSpaceSizeMb`; the options are maxOldGenerationSizeMb, maxYoungGenerationSizeMb, codeRangeSizeMb, stackSizeMb',
  });
  assert.throws(() => nodePool(module, { resourceLimits: 64 as never }), {
    name: 'TaskDefinitionError',
    message: 'nodePool(): `resourceLimits`: expected the options to be an object, got 64',
  });
  assert.throws(() => nodePool(module, { resourceLimits: { maxOldGenerationSizeMb: '64' as never } }), {
    name: 'CheckpointError',
    message:
      'nodePool(): expected `resourceLimits.maxOldGenerationSizeMb` to be a number of megabytes (0: Node’s default), got "64"',
  });
});

test('a worker that defines no task at all says why that may be (a bundler dropped its import)', async () => {
  // pool-setup.js defines no task: as a worker whose `import './tasks.js'` a bundler dropped.
  const empty = nodePool(new URL('./fixtures/pool-setup.js', import.meta.url), { size: 1 });
  try {
    const error = await failing('nothing')
      .run({ executor: empty, store: memoryStore() })
      .catch((e) => e);
    assert.ok(error instanceof TaskFailedError && error.cause instanceof TaskDefinitionError);
    assert.match(error.cause.message, /`pool.failing` is not defined here: .* which defines no task at all/);
    assert.match(error.cause.message, /"sideEffects": false/);
  } finally {
    await empty.close();
  }
});
