import 'fake-indexeddb/auto';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { idbStore } from 'checkpoint-tool/browser';
import { fsStore, TaskDefinitionError, task } from 'checkpoint-tool/node';

/** Whether `call` throws a TaskDefinitionError whose message matches `message`. */
function refuses(call: () => unknown, message: RegExp): void {
  assert.throws(call, (error: unknown) => {
    assert.ok(error instanceof TaskDefinitionError, `expected a TaskDefinitionError, got ${String(error)}`);
    assert.match(error.message, message);
    return true;
  });
}

test('fsStore refuses a path given alone, saying it goes in `dir`, and writes nothing anywhere', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-options-'));
  const cwd = process.cwd();
  process.chdir(dir);
  try {
    refuses(
      () => fsStore(join(dir, 'cache') as never),
      /^fsStore\(\): expected the options to be an object, got ".*": it goes in `dir`, as in fsStore\(\{ dir: ".*" \}\)$/,
    );
    // What the slip used to do: a run stored into ./.cache while the user looked in `dir`.
    assert.equal(existsSync(join(dir, '.cache')), false);
  } finally {
    process.chdir(cwd);
  }
});

test('fsStore refuses misspelt options and values of the wrong kind, naming the option', () => {
  refuses(
    () => fsStore({ directory: '/tmp/x' } as never),
    /^fsStore\(\): unknown option `directory`; the options are dir, onCorrupt$/,
  );
  refuses(() => fsStore({ dir: 5 } as never), /^fsStore\(\): expected `dir` to be a string \(a path\), got 5$/);
  refuses(
    () => fsStore({ onCorrupt: 'warn' } as never),
    /^fsStore\(\): expected `onCorrupt` to be a function, got "warn"$/,
  );
  refuses(() => fsStore(null as never), /^fsStore\(\): expected the options to be an object, got null$/);
});

test('fsStore still takes no options, `dir` alone, or an undefined option', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'cp-options-'));
  const twice = task('options_twice', (x: number) => () => x * 2);
  assert.equal(await twice(4).run({ store: fsStore({ dir, onCorrupt: undefined }) }), 8);
  assert.equal(existsSync(join(dir, 'checkpoint', 'options_twice')), true);
  assert.ok(fsStore());
});

test('idbStore refuses a name given alone, misspelt options and names that are not strings', () => {
  refuses(
    () => idbStore('notes' as never),
    /^idbStore\(\): expected the options to be an object, got "notes": it goes in `dbName`, as in idbStore\(\{ dbName: "notes" \}\)$/,
  );
  refuses(
    () => idbStore({ database: 'notes' } as never),
    /^idbStore\(\): unknown option `database`; the options are dbName, storeName$/,
  );
  refuses(() => idbStore({ storeName: 1 } as never), /^idbStore\(\): expected `storeName` to be a string, got 1$/);
  assert.ok(idbStore({ dbName: 'notes', storeName: undefined }));
});
