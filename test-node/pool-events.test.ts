import assert from 'node:assert/strict';
import { test } from 'node:test';
import { memoryStore, nodePool, type RunEvent } from 'checkpoint-tool';
import { loadedWhen } from './fixtures/pool-slow-load.js';

test("a new pool reports a job `started` once its worker has loaded the tasks' module", async () => {
  const pool = nodePool(new URL('./fixtures/pool-slow-load.js', import.meta.url), { size: 1 });
  try {
    let startedAt: number | undefined;
    const events: RunEvent[] = [];
    const onEvent = (event: RunEvent) => {
      if (event.type === 'started') startedAt = Date.now();
      events.push(event);
    };
    const { loadedAt } = await loadedWhen(1).run({ executor: pool, store: memoryStore(), onEvent });
    assert.ok(startedAt !== undefined && startedAt >= loadedAt, `started at ${startedAt}, loaded at ${loadedAt}`);
    // A second job on the now warm worker starts as it is posted, once.
    events.length = 0;
    await loadedWhen(2).run({ executor: pool, store: memoryStore(), onEvent });
    assert.deepEqual(
      events.map((e) => e.type),
      ['planned', 'started', 'finished'],
    );
  } finally {
    await pool.close();
  }
});

test("a new pool's first `finished.duration` counts from `started`, not the worker's start-up", async () => {
  const pool = nodePool(new URL('./fixtures/pool-slow-load.js', import.meta.url), { size: 1 });
  try {
    const events: RunEvent[] = [];
    await loadedWhen(3).run({ executor: pool, store: memoryStore(), onEvent: (e) => events.push(e) });
    const started = events.find((e) => e.type === 'started');
    const finished = events.find((e) => e.type === 'finished');
    assert.ok(started && finished?.type === 'finished');
    // The same clock for both: the duration fits between the two events (1 ms for rounding).
    assert.ok(finished.duration <= finished.time - started.time + 1, `duration ${finished.duration}`);
  } finally {
    await pool.close();
  }
});

test('an executor caller whose `started` throws fails that job only; the jobs queued behind it still run', async () => {
  const pool = nodePool(new URL('./fixtures/pool-slow-load.js', import.meta.url), { size: 1 });
  const job = (i: number) => ({ task: loadedWhen.id, version: '', key: loadedWhen(i).key, args: [i], inputs: [] });
  try {
    // The first job holds the only worker; the next two wait for it, and are posted as it ends.
    const first = pool.execute(job(1), {});
    const throwing = pool.execute(job(2), {
      started() {
        throw new Error('listener broke');
      },
    });
    const after = pool.execute(job(3), {});
    assert.equal(((await first) as { i: number }).i, 1);
    await assert.rejects(Promise.resolve(throwing), /listener broke/);
    assert.equal(((await after) as { i: number }).i, 3);
  } finally {
    await pool.close();
  }
});
