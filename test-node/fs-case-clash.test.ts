// Task ids that differ only in case share one folder on a case-insensitive file system (macOS,
// Windows). Simulated here by a link `<cache>/checkpoint/foo -> Foo`: where the file system is
// case-insensitive already, making the link fails (EEXIST) and the folder clashes as it is.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, readdir, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { promisify } from 'node:util';
import { type EntryMeta, fsStore, type Store, task } from 'checkpoint-tool';
import { runOnce, temporaryDir } from './helpers.js';

const execFileAsync = promisify(execFile);

/** Makes `<root>/<name>` name the directory `target`, as a case-insensitive file system would. */
async function alias(target: string, root: string, name: string): Promise<void> {
  // A junction on Windows, where a symbolic link needs privileges; the type is ignored elsewhere.
  await symlink(target, join(root, name), 'junction').catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
}

/** A cache whose folder `lower` is task `upper`'s, which has one result: `upper(1)` is 10. */
async function clashing(upper: string, lower: string, dir?: string) {
  dir ??= await temporaryDir();
  let computed = 0;
  const owner = task(upper, (x: number) => () => {
    computed++;
    return x * 10;
  });
  assert.equal(await owner(1).run({ store: fsStore({ dir }) }), 10);
  const root = join(dir, 'checkpoint');
  await alias(join(root, upper), root, lower);
  /** Asserts that `upper(1)` is still its own result, read from the cache. */
  const intact = async () => {
    assert.deepEqual(await runOnce(owner(1), fsStore({ dir })), { value: 10, cached: true });
    assert.equal(computed, 1);
  };
  return { dir, root, intact };
}

/** Asserts that `attempt` fails with the error of a folder that is `owner`'s, not `id`'s. */
async function refused(attempt: Promise<unknown> | undefined, id: string, owner: string): Promise<void> {
  await assert.rejects(attempt ?? Promise.resolve(), (error: Error) => {
    assert.equal(error.name, 'CheckpointError');
    assert.match(error.message, new RegExp(`task \`${id}\`.* is that of task \`${owner}\`.*Rename one`));
    return true;
  });
}

describe('fs store: a folder whose name differs from its task id only in case', () => {
  test("another process's task of that id fails its run, rather than reading the other's result", async () => {
    const { dir, intact } = await clashing('CaseClash', 'caseclash');
    const script = new URL('./fixtures/case-clash-run.ts', import.meta.url).pathname;
    const { stdout } = await execFileAsync(process.execPath, ['--import', 'tsx', script], {
      env: { ...process.env, CP_CACHE_DIR: dir, TASK_NAME: 'caseclash' },
    });
    // Without the check: `{ value: 10 }`, the other task's result taken for caseclash(1) = 7.
    const { error } = JSON.parse(stdout) as { error?: { name: string; message: string } };
    assert.equal(error?.name, 'CheckpointError');
    assert.match(error.message, /task `caseclash`.* is that of task `CaseClash`.*Rename one/);
    await intact();
  });

  test('every store call on it fails, and leaves the other task its entry', async () => {
    const { dir, intact } = await clashing('CaseCalls', 'casecalls');
    const [key] = await fsStore({ dir }).keys('CaseCalls');
    assert.ok(key);
    const meta: EntryMeta = {
      format: 1,
      key,
      version: '',
      stamp: 'another',
      inputs: [],
      encoding: 'raw',
      size: 1,
      created: 0,
    };
    const calls: Record<string, (store: Required<Store>) => Promise<unknown>> = {
      readMeta: (store) => store.readMeta('casecalls', key),
      readMetas: (store) => store.readMetas('casecalls', [key]),
      readValue: (store) => store.readValue('casecalls', key),
      keys: (store) => store.keys('casecalls'),
      write: async (store) => store.write('casecalls', key, { meta, value: [new Uint8Array([1])] }),
      lock: (store) => store.lock('casecalls', key),
      delete: (store) => store.delete('casecalls', key),
      clear: (store) => store.clear('casecalls'),
    };
    for (const [name, call] of Object.entries(calls)) {
      // A store of its own for each call: each must check the folder, whichever comes first.
      await test(name, () => refused(call(fsStore({ dir }) as Required<Store>), 'casecalls', 'CaseCalls'));
    }
    await intact();
  });

  test('a folder found missing is checked again once there', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    assert.deepEqual(await store.readMetas?.('caselate', ['[1]']), [undefined]);
    const { intact } = await clashing('CaseLate', 'caselate', dir);
    await refused(store.readMetas?.('caselate', ['[1]']), 'caselate', 'CaseLate');
    await intact();
  });

  test('a folder linked elsewhere is its own, whatever the name of what it links to', async () => {
    const dir = await temporaryDir();
    const elsewhere = await temporaryDir();
    const root = join(dir, 'checkpoint');
    await mkdir(root);
    // One linked to a folder of another name, one to a folder of its own name but for case.
    await mkdir(join(elsewhere, 'cache-linked-away'));
    await mkdir(join(elsewhere, 'LINKED-CASE'));
    await alias(join(elsewhere, 'cache-linked-away'), root, 'linked-away');
    await alias(join(elsewhere, 'LINKED-CASE'), root, 'linked-case');
    for (const name of ['linked-away', 'linked-case']) {
      const linked = task(name, (x: number) => () => x + 1);
      assert.deepEqual(await runOnce(linked(1), fsStore({ dir })), { value: 2, cached: false });
      assert.deepEqual(await runOnce(linked(1), fsStore({ dir })), { value: 2, cached: true });
    }
    for (const target of ['cache-linked-away', 'LINKED-CASE']) {
      assert.equal((await readdir(join(elsewhere, target))).filter((name) => name.endsWith('.entry')).length, 1);
    }
  });
});
