import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fsStore, type Store, TaskFailedError } from 'checkpoint-tool';
import { choose } from './fixtures/choose.js';
import { recorder, temporaryDir } from './helpers.js';

/** Wraps a store so that writing (and locking) fails with a system error, as a full or read-only disk does. */
function failingWrites(inner: Store, code: 'ENOSPC' | 'EROFS', when: (key: string) => boolean): Store {
  const fail = (key: string) => {
    if (when(key)) throw Object.assign(new Error(`${code}: simulated, write '${key}'`), { code });
  };
  return {
    ...inner,
    async write(folder, key, entry) {
      fail(key);
      return inner.write(folder, key, entry);
    },
    async lock(folder, key) {
      fail(key);
      return inner.lock!(folder, key);
    },
  };
}

test('a full disk fails the instance that could not be stored, naming it; what was stored stays readable', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  assert.equal(await choose(5, 2).run({ store }), 10);
  const full = failingWrites(store, 'ENOSPC', (key) => key === '[6,3]');
  await assert.rejects(choose(7, 3).run({ store: full }), (error: unknown) => {
    assert.ok(error instanceof TaskFailedError);
    assert.equal(error.message.split(' failed')[0], 'choose(6,3)');
    assert.equal((error.cause as NodeJS.ErrnoException).code, 'ENOSPC');
    return true;
  });
  // Once space is back, only what was not stored is computed.
  const events = recorder();
  assert.equal(await choose(7, 3).run({ store, onEvent: events.onEvent }), 35);
  assert.deepEqual(new Set(events.labels('finished')), new Set(['choose(6,3)', 'choose(7,3)']));
});

test('a read-only cache serves every fresh result, and fails only what would need writing', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  assert.equal(await choose(6, 3).run({ store }), 20);
  const readOnly = failingWrites(store, 'EROFS', () => true);
  assert.equal(await choose(6, 3).run({ store: readOnly }), 20);
  assert.equal(await choose(5, 2).run({ store: readOnly }), 10);
  await assert.rejects(choose(7, 3).run({ store: readOnly }), (error: unknown) => {
    assert.ok(error instanceof TaskFailedError);
    assert.match(error.message, /choose\(\d,\d\) failed: Error: EROFS/);
    return true;
  });
});
