import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fsStore, requires, task } from 'checkpoint-tool';
import { temporaryDir } from './helpers.js';

const leaf = task('blockingLeaf', (i: number) => () => i);
const sum = task('blockingSum', (n: number) =>
  requires(Array.from({ length: n }, (_, i) => leaf(i)))((values) => values.reduce((a, b) => a + b, 0)),
);

test('a cold run on the fs store lets the event loop turn while it stores thousands of entries', async () => {
  const store = fsStore({ dir: await temporaryDir() });
  let turns = 0;
  let ticking = true;
  const tick = () => {
    turns++;
    if (ticking) setImmediate(tick);
  };
  setImmediate(tick);
  try {
    assert.equal(await sum(3000).run({ store }), (2999 * 3000) / 2);
  } finally {
    ticking = false;
  }
  // Every entry costs several calls: with all of them blocking, the loop turned 6 times here (in
  // planning), against thousands when blocking stops after a few ms in each turn.
  assert.ok(turns >= 50, `the event loop turned ${turns} times during the run`);
});
