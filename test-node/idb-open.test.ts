import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { mock, test } from 'node:test';
import { CheckpointError, idbStore } from 'checkpoint-tool/browser';

/** An open request that never answers, as a Safari bug once left them; `block()` fires its `blocked` event. */
function silentOpen() {
  const request = {} as IDBOpenDBRequest & { onblocked: (() => void) | null };
  const open = indexedDB.open;
  indexedDB.open = () => request;
  return { restore: () => (indexedDB.open = open), block: () => request.onblocked?.() };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

test('idbStore: an open that never answers fails the store call after 10 s, naming the database; the next call opens it again', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const dbName = `silent-${Math.random()}`;
  const store = idbStore({ dbName });
  const open = silentOpen();
  const listing = store.keys('task');
  let settled = false;
  listing.then(
    () => (settled = true),
    () => (settled = true),
  );
  await turn();
  mock.timers.tick(9_999);
  await turn();
  assert.equal(settled, false, 'given up on before 10 s');
  mock.timers.tick(1);
  await assert.rejects(listing, (error: Error) => {
    assert.ok(error instanceof CheckpointError);
    assert.equal(error.message, `IndexedDB ${dbName} did not open within 10 s`);
    return true;
  });
  open.restore();
  assert.deepEqual(await store.keys('task'), []);
});

test('idbStore: an open blocked by another connection waits as long as it takes (it warns), however long', async (t) => {
  mock.timers.enable({ apis: ['setTimeout'] });
  t.after(() => mock.timers.reset());
  const warned = mock.method(console, 'warn', () => {});
  t.after(() => warned.mock.restore());
  const store = idbStore({ dbName: `blocked-${Math.random()}` });
  const open = silentOpen();
  t.after(open.restore);
  let settled = false;
  store.keys('task').then(
    () => (settled = true),
    () => (settled = true),
  );
  await turn();
  open.block();
  for (let i = 0; i < 6; i++) {
    mock.timers.tick(10_000);
    await turn();
  }
  assert.equal(settled, false, 'a blocked open was given up on');
  assert.equal(warned.mock.callCount(), 1);
});
