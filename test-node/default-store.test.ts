import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { promisify } from 'node:util';
import { temporaryDir } from './helpers.js';

const run = promisify(execFile);

/**
 * What `defaultStoreStatus()` reports in a fresh process that imports `entry` (after `setup`), and
 * what that process warned. Each entry sets the process's default store, so each gets its own.
 */
async function statusIn(entry: string, setup = '') {
  const script = `${setup}const { defaultStoreStatus } = await import(${JSON.stringify(entry)});
console.log(JSON.stringify(await defaultStoreStatus()));`;
  const { stdout, stderr } = await run(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, CP_CACHE_DIR: await temporaryDir() },
  });
  return { status: JSON.parse(stdout) as unknown, warnings: stderr };
}

test('defaultStoreStatus: under Node.js, the filesystem, persistent', async () => {
  const { status, warnings } = await statusIn('checkpoint-tool');
  assert.deepEqual(status, { kind: 'fs', persistent: true });
  assert.equal(warnings, '');
});

test('defaultStoreStatus: the browser entry where IndexedDB works, persistent', async () => {
  const { status, warnings } = await statusIn('checkpoint-tool/browser', "await import('fake-indexeddb/auto');\n");
  assert.deepEqual(status, { kind: 'indexeddb', persistent: true });
  assert.equal(warnings, '');
});

test('defaultStoreStatus: the browser entry without IndexedDB, memory, saying why, as its warning does', async () => {
  const { status, warnings } = await statusIn('checkpoint-tool/browser');
  assert.deepEqual(status, { kind: 'memory', persistent: false, reason: 'IndexedDB is unavailable' });
  assert.match(warnings, /checkpoint-tool: IndexedDB is unavailable; results are cached in memory only/);
});

test('defaultStoreStatus: the entry bundlers pick without the node and browser conditions, memory', async () => {
  // No condition selects it under Node.js: it is imported by its file here.
  const { status } = await statusIn(new URL('../dist/index.js', import.meta.url).href);
  assert.deepEqual(status, {
    kind: 'memory',
    persistent: false,
    reason: 'no persistent store is known on this platform (neither the node nor the browser entry was chosen)',
  });
});

test('an empty CP_CACHE_DIR is no directory: the default store keeps ./.cache', async () => {
  const cwd = await temporaryDir();
  const script = `import { task } from 'checkpoint-tool';
await task('empty-env', () => () => 1)().run();`;
  // Imported by the package's path: the script runs from a directory outside the package.
  const entry = new URL('../dist/index.node.js', import.meta.url).href;
  await run(
    process.execPath,
    ['--input-type=module', '-e', script.replace("'checkpoint-tool'", JSON.stringify(entry))],
    {
      cwd,
      env: { ...process.env, CP_CACHE_DIR: '' },
    },
  );
  assert.deepEqual(await readdir(join(cwd, '.cache', 'checkpoint')), ['empty-env']);
});
