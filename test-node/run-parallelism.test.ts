import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { inProcess, memoryStore, requires, type Store, task } from 'checkpoint-tool';
import { deferred, recorder } from './helpers.js';

describe('parallelism', () => {
  test('maxConcurrency caps the instances of a task running at once, and the cap is reached', async () => {
    let running = 0;
    let peak = 0;
    const work = task(
      'par-capped',
      (i: number) => async () => {
        running++;
        peak = Math.max(peak, running);
        for (let tick = 0; tick < 5; tick++) await new Promise((resolve) => setImmediate(resolve));
        running--;
        return i;
      },
      { maxConcurrency: 3 },
    );
    const all = task('par-all', () => requires(Array.from({ length: 20 }, (_, i) => work(i)))((v) => v.length));
    assert.equal(await all().run({ store: memoryStore() }), 20);
    assert.equal(peak, 3);
  });

  test('independent instances run concurrently, and an executor is reused across runs untouched', async () => {
    let running = 0;
    let peak = 0;
    const work = task('par-free', (i: number) => async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((resolve) => setImmediate(resolve));
      running--;
      return i;
    });
    const executor = inProcess();
    const all = task('par-free-all', (n: number) =>
      requires(Array.from({ length: n }, (_, i) => work(i)))((v) => v.length),
    );
    assert.equal(await all(10).run({ store: memoryStore(), executor }), 10);
    assert.equal(peak, 10);
    assert.equal(await all(12).run({ store: memoryStore(), executor }), 12);
  });

  test("at most 64 instances are in the store's hands at once (locks, writes), and the bound is reached", async () => {
    // A store whose locks and writes each take a turn of the event loop, counting the instances
    // between taking their lock and having their result written.
    const inner = memoryStore();
    let held = 0;
    let peak = 0;
    const turn = () => new Promise((resolve) => setImmediate(resolve));
    const store: Store = {
      ...inner,
      async lock() {
        await turn();
        held++;
        peak = Math.max(peak, held);
        return async () => {
          held--;
        };
      },
      async write(folder, key, entry) {
        await turn();
        await inner.write(folder, key, entry);
      },
    };
    const leaf = task('gate-leaf', (i: number) => () => i);
    const sum = task('gate-sum', (n: number) =>
      requires(Array.from({ length: n }, (_, i) => leaf(i)))((values) => values.reduce((a, b) => a + b, 0)),
    );
    assert.equal(await sum(1_000).run({ store }), 499_500);
    assert.equal(peak, 64);
    assert.equal(held, 0);
  });

  test('async computations do not count against that bound while they run: 200 run at once on a store with locks', async () => {
    const inner = memoryStore();
    const store: Store = { ...inner, lock: async () => async () => {} };
    // Each computation waits until all 200 are running: a bound on them would never let this end.
    let running = 0;
    const { promise: together, resolve: all } = deferred();
    const wait = task('gate-wait', (i: number) => async () => {
      if (++running === 200) all();
      const timeout = new Promise((_, reject) =>
        setTimeout(() => reject(new Error(`only ${running} of 200 running at once`)), 5_000).unref(),
      );
      await Promise.race([together, timeout]);
      return i;
    });
    const sum = task('gate-wait-all', (n: number) =>
      requires(Array.from({ length: n }, (_, i) => wait(i)))((values) => values.length),
    );
    assert.equal(await sum(200).run({ store }), 200);
  });

  test('events come in order for each instance', async () => {
    const events = recorder();
    const a = task('ev-a', () => () => 1);
    const b = task('ev-b', () => requires(a())((x) => x + 1));
    const store = memoryStore();
    await b().run({ store, onEvent: events.onEvent });
    assert.deepEqual(
      events.events.map((e) => `${e.type} ${e.instance.label}`),
      ['planned ev-a()', 'planned ev-b()', 'started ev-a()', 'finished ev-a()', 'started ev-b()', 'finished ev-b()'],
    );
    const started = events.events.find((e) => e.type === 'started');
    assert.equal(started?.type === 'started' && started.worker, 'main');
  });
});
