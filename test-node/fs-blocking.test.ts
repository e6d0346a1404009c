import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fsStore, requires, task } from 'checkpoint-tool';
import { patch, temporaryDir } from './helpers.js';

// The fs store makes its small calls blocking where they are fast, within bounds: these tests
// check the bounds. The last one switches this process to libuv's threads (for a minute). Alone in
// their process (a file of their own), so that no earlier test's calls, made slow by other
// processes on the cores, switch it first.

const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof import('node:fs');

const leaf = task('blockingLeaf', (i: number) => () => i);
const sum = task('blockingSum', (n: number) =>
  requires(Array.from({ length: n }, (_, i) => leaf(i)))((values) => values.reduce((a, b) => a + b, 0)),
);

/** The blocking calls the fs store makes. */
const blockingCalls = [
  'openSync',
  'closeSync',
  'statSync',
  'fstatSync',
  'readSync',
  'writevSync',
  'renameSync',
  'ftruncateSync',
] as const;

/**
 * Makes the store's blocking calls take 2 ms each while `slow()` says so (a disk under load, a
 * network filesystem), counting the calls made after `armed()` turned true; until `undo`.
 */
function slowCalls(armed: () => boolean, slow: () => boolean) {
  const counts = { slow: 0, fast: 0 };
  const undo = blockingCalls.map((name) => {
    const original = fs[name] as (...args: unknown[]) => unknown;
    return patch(fs, name, ((...args: unknown[]) => {
      if (armed() && slow()) {
        counts.slow++;
        const until = performance.now() + 2;
        while (performance.now() < until) {}
      } else if (armed()) counts.fast++;
      return original(...args);
    }) as never);
  });
  const restore = () => {
    for (const undoOne of undo) undoOne();
  };
  return { counts, undo: restore };
}

/** Runs a fan-in of `n` leaves on a new fs store, with blocking calls slowed once planning is over. */
async function runSlowed(n: number, slow: (counts: { slow: number; fast: number }) => boolean) {
  const store = fsStore({ dir: await temporaryDir() });
  let planned = false;
  const calls = slowCalls(
    () => planned,
    () => slow(calls.counts),
  );
  try {
    // Planning reads headers by a mechanism of its own: counted from the first event on.
    const onEvent = () => {
      planned = true;
    };
    assert.equal(await sum(n).run({ store, onEvent }), ((n - 1) * n) / 2);
  } finally {
    calls.undo();
  }
  return calls.counts;
}

test('one slow blocking call (a pause, a collection) leaves the fs store blocking', async () => {
  const counts = await runSlowed(50, ({ slow }) => slow < 1);
  assert.equal(counts.slow, 1);
  assert.ok(counts.fast > 100, `${counts.fast} blocking calls after one slow one`);
});

// Last: it switches this process to libuv's threads (for a minute).
test('three slow blocking calls in a row switch the fs store to libuv (for a minute)', async () => {
  const counts = await runSlowed(200, () => true);
  assert.equal(counts.slow, 3);
  assert.equal(counts.fast, 0, 'blocking calls after three slow ones in a row');
  // A new store object of this process too.
  assert.deepEqual(await runSlowed(20, () => true), { slow: 0, fast: 0 });
});
