import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { fsStore, requires, task } from 'checkpoint-tool';
import { patch, temporaryDir } from './helpers.js';

// A long-lived process (a notebook's kernel, a server) whose fs calls were slow for a moment (other
// threads had the cores) is not switched to libuv's threads for the rest of its life. In a process
// of its own: the switch is this process's.

const require = createRequire(import.meta.url);
const fs = require('node:fs') as typeof import('node:fs');

const leaf = task('retryLeaf', (i: number) => () => i);
const sum = task('retrySum', (n: number) =>
  requires(Array.from({ length: n }, (_, i) => leaf(i)))((values) => values.reduce((a, b) => a + b, 0)),
);

/** Runs a fan-in of `n` leaves on a new fs store, counting its blocking calls once planning is over, each made 2 ms slow when `slow`. */
async function blockingCallsOfRun(n: number, slow: boolean): Promise<number> {
  let planned = false;
  let calls = 0;
  const undo = (['openSync', 'closeSync', 'statSync', 'fstatSync', 'writevSync', 'renameSync'] as const).map((name) => {
    const original = fs[name] as (...args: unknown[]) => unknown;
    return patch(fs, name, ((...args: unknown[]) => {
      if (planned) {
        calls++;
        const until = performance.now() + (slow ? 2 : 0);
        while (performance.now() < until) {}
      }
      return original(...args);
    }) as never);
  });
  try {
    const onEvent = () => {
      planned = true;
    };
    assert.equal(await sum(n).run({ store: fsStore({ dir: await temporaryDir() }), onEvent }), ((n - 1) * n) / 2);
  } finally {
    for (const undoOne of undo) undoOne();
  }
  return calls;
}

test('calls switched to libuv by three slow ones in a row are tried blocking again a minute later', async () => {
  assert.equal(await blockingCallsOfRun(100, true), 3, 'three slow calls, then none blocking');
  assert.equal(await blockingCallsOfRun(100, false), 0, 'still switched within the minute');
  const now = performance.now.bind(performance);
  const undo = patch(performance, 'now', () => now() + 61_000);
  try {
    const calls = await blockingCallsOfRun(100, false);
    // At least the three a switch back would take (more, on a machine not under load).
    assert.ok(calls >= 3, `${calls} blocking calls a minute after the switch`);
  } finally {
    undo();
  }
});
