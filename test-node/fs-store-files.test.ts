import assert from 'node:assert/strict';
import { mkdir, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { describe, test } from 'node:test';
import { fsStore, type Store, task } from 'checkpoint-tool';
import { onlyFile, temporaryDir, tree } from './helpers.js';
import { bytesOf, entryBytes, entryOf, oddKeys } from './store-checks.js';

describe('fsStore on disk', () => {
  test('odd keys never make a file outside <dir>/checkpoint/<folder>/, nor a subfolder', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    for (const key of oddKeys) await store.write('ns.task', key, entryOf(key, bytesOf(key)));
    const paths = await tree(dir);
    const files = paths.filter((path) => path.startsWith('checkpoint/ns.task/'));
    assert.deepEqual(paths, ['checkpoint', 'checkpoint/ns.task', ...files]);
    assert.equal(files.length, oddKeys.length);
    for (const file of files) {
      assert.match(file, /^checkpoint\/ns\.task\/[0-9a-f]{64}\.entry$/);
      assert.ok((await stat(join(dir, file))).isFile());
    }
  });

  test('folder names that could leave the cache root are refused', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir: join(dir, 'inner') });
    for (const folder of ['..', '.', '../x', 'a/b', 'a\\b', '', '.hidden']) {
      await assert.rejects(
        async () => store.write(folder, '[1]', entryOf('[1]', bytesOf('x'))),
        /fsStore: expected a folder/,
      );
      await assert.rejects(store.keys(folder), /fsStore: expected a folder/);
      await assert.rejects(store.clear(folder), /fsStore: expected a folder/);
    }
    assert.deepEqual(await readdir(dir), []);
  });

  test('writes leave no temporary file, even concurrent writes of one key or a failed write', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    await Promise.all(
      Array.from({ length: 20 }, (_, i) => store.write('task', `[${i % 3}]`, entryOf(`[${i % 3}]`, bytesOf(`${i}`)))),
    );
    assert.deepEqual((await store.keys('task')).sort(), ['[0]', '[1]', '[2]']);
    // A folder in the entry's place makes the rename fail after the temporary file is written.
    const blocked = join(dir, 'checkpoint', 'blocked');
    await store.write('blocked', '[1]', entryOf('[1]', bytesOf('first')));
    const path = await onlyFile(dir, 'blocked');
    await rm(path);
    await mkdir(join(path, 'in-the-way'), { recursive: true });
    await assert.rejects(async () => store.write('blocked', '[1]', entryOf('[1]', bytesOf('second'))));
    const names = (await tree(dir)).filter((name) => name.endsWith('.tmp'));
    assert.deepEqual(names, []);
    assert.deepEqual(await readdir(blocked), [basename(path)]);
  });

  test('values of megabytes, written and read in chunks while their checksums are computed, read back whole; a flipped byte is caught', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    // More than two chunks of 8 MiB read; a value written whole under a lock.
    const big = bytesOf('big', 17 * 1024 * 1024 + 5);
    const other = bytesOf('other', 2 * 1024 * 1024);
    await store.write('plain', '[1]', entryOf('[1]', big));
    const release = await store.lock?.('locked', '[2]');
    assert.ok(release);
    await store.write('locked', '[2]', entryOf('[2]', other));
    await release();
    // Compared as buffers: a failing deepEqual would print a diff of megabytes.
    const same = (read: Uint8Array | undefined, expected: Uint8Array) =>
      read !== undefined && Buffer.from(read.buffer, read.byteOffset, read.length).equals(expected);
    assert.ok(
      same((await fsStore({ dir }).readValue('plain', '[1]'))?.value, big),
      'the 17 MiB value reads back whole',
    );
    assert.ok(
      same((await fsStore({ dir }).readValue('locked', '[2]'))?.value, other),
      'the 2 MiB value reads back whole',
    );
    assert.equal((await fsStore({ dir }).readMeta('plain', '[1]'))?.size, big.length);
    // One byte flipped in the second chunk read, then in the last: the checksums no longer match.
    const reports: string[] = [];
    const checking = fsStore({ dir, onCorrupt: ({ reason }) => reports.push(reason) });
    for (const [folder, key, offset] of [
      ['plain', '[1]', 10 * 1024 * 1024],
      ['locked', '[2]', -2],
    ] as const) {
      const path = await onlyFile(dir, folder);
      const file = await readFile(path);
      const at = offset < 0 ? file.length + offset : offset;
      file[at] = (file[at] as number) ^ 1;
      await writeFile(path, file);
      assert.equal((await checking.readValue(folder, key))?.value, undefined, folder);
    }
    assert.deepEqual(reports, ['value checksum mismatch', 'value checksum mismatch']);
  });

  test('a file of gigabytes in place of an entry is rejected from its header alone, never read whole', async () => {
    const dir = await temporaryDir();
    const reports: string[] = [];
    const store = fsStore({ dir, onCorrupt: ({ reason }) => reports.push(reason) });
    // A header of more than 64 KiB (thousands of input stamps), a value of more than 8 MiB: read
    // back whole, as any entry larger than one read is, once its header is checked.
    const inputs = Array.from({ length: 5_000 }, (_, i) => `stamp-${i}`);
    const big = bytesOf('big', 9 * 1024 * 1024);
    await store.write('sound', '[1]', entryOf('[1]', big, { inputs }));
    const read = (await store.readValue('sound', '[1]'))?.value;
    assert.ok(read && Buffer.from(read.buffer, read.byteOffset, read.length).equals(big), 'the sound entry reads back');
    assert.deepEqual((await store.readMeta('sound', '[1]'))?.inputs, inputs);
    // Sparse files of 6 GiB, more than a Buffer can hold: read whole, they would throw.
    const huge = 6 * 1024 ** 3;
    await store.write('grown', '[1]', entryOf('[1]', bytesOf('small')));
    await truncate(await onlyFile(dir, 'grown'), huge); // an entry with zeros appended
    await store.write('foreign', '[1]', entryOf('[1]', bytesOf('small')));
    await truncate(await onlyFile(dir, 'foreign'), 0);
    await truncate(await onlyFile(dir, 'foreign'), huge); // no header at all
    // An entry whose metadata length says 2 GiB: reading that much would take seconds.
    await store.write('lying', '[1]', entryOf('[1]', bytesOf('small')));
    const lying = await onlyFile(dir, 'lying');
    const file = await readFile(lying);
    file.writeUInt32LE(0x7fff0000, 4);
    await writeFile(lying, file);
    await truncate(lying, huge);
    assert.equal((await store.readValue('grown', '[1]'))?.value, undefined);
    assert.equal((await store.readValue('foreign', '[1]'))?.value, undefined);
    assert.equal((await store.readValue('lying', '[1]'))?.value, undefined);
    assert.equal(reports.length, 3, reports.join('; '));
    assert.match(reports[0] as string, new RegExp(`^${huge} bytes instead of \\d+$`));
    assert.equal(reports[1], 'not an entry file');
    assert.equal(reports[2], `a metadata length of ${0x7fff0000} bytes, more than any entry has`);
    // All are removed as damaged, and the sound entry is untouched.
    for (const folder of ['grown', 'foreign', 'lying']) {
      assert.deepEqual(await readdir(join(dir, 'checkpoint', folder)), [], folder);
    }
    assert.ok((await store.readValue('sound', '[1]'))?.value);
  });

  test('a leftover temporary file, a truncated, padded, foreign or misplaced file is not an entry', async () => {
    const dir = await temporaryDir();
    const store = fsStore({ dir });
    const good = entryOf('[1]', bytesOf('good', 100));
    await store.write('task', '[1]', good);
    const goodPath = await onlyFile(dir, 'task');
    const goodBytes = await readFile(goodPath);

    // Each damaged file in a folder of its own, under the name the store gives key [1].
    const damaged: Record<string, Uint8Array> = {
      truncatedValue: goodBytes.subarray(0, goodBytes.length - 1),
      truncatedHeader: goodBytes.subarray(0, 20),
      truncatedPrefix: goodBytes.subarray(0, 5),
      empty: new Uint8Array(0),
      padded: Buffer.concat([goodBytes, Buffer.from([0])]),
      foreign: new TextEncoder().encode('{"format":1,"key":"[1]"}'),
      hugeLength: Buffer.concat([
        goodBytes.subarray(0, 4),
        Buffer.from([0xf0, 0xff, 0xff, 0xff]),
        goodBytes.subarray(8),
      ]),
      badMeta: Buffer.concat([goodBytes.subarray(0, 8), Buffer.from('{"format":1,"key":7}'.padEnd(100))]),
    };
    const name = basename(goodPath);
    for (const [folder, bytes] of Object.entries(damaged)) {
      await mkdir(join(dir, 'checkpoint', folder));
      await writeFile(join(dir, 'checkpoint', folder, name), bytes);
      assert.equal(await store.readMeta(folder, '[1]'), undefined, folder);
      assert.equal((await store.readValue(folder, '[1]'))?.value, undefined, folder);
      assert.deepEqual(await store.keys(folder), [], folder);
    }

    // A whole entry left as a temporary file, or copied under another key's file name.
    const other = entryOf('[2]', bytesOf('other'));
    await store.write('copies', '[2]', other);
    const otherPath = await onlyFile(dir, 'copies');
    await writeFile(`${otherPath}.0123456789ab.tmp`, await readFile(otherPath));
    await writeFile(join(dir, 'checkpoint', 'copies', name), await readFile(otherPath));
    await store.delete('copies', '[2]');
    assert.equal(await store.readMeta('copies', '[2]'), undefined);
    assert.equal(await store.readMeta('copies', '[1]'), undefined, 'another key in this key’s file');
    assert.deepEqual(await store.keys('copies'), []);

    // The good entry is untouched, and a damaged one is replaced by the next write.
    assert.deepEqual(await store.readMeta('task', '[1]'), good.meta);
    await store.write('truncatedValue', '[1]', good);
    assert.deepEqual((await store.readValue('truncatedValue', '[1]'))?.value, entryBytes(good));
    assert.deepEqual(await store.keys('truncatedValue'), ['[1]']);
  });

  test('entries live in <CP_CACHE_DIR or dir>/checkpoint/<namespace>.<task>/, and task.clear() removes the folder', async () => {
    const envDir = await temporaryDir();
    const optionDir = await temporaryDir();
    const computed: number[] = [];
    const layout = task(
      'layout',
      (n: number) => () => {
        computed.push(n);
        return n * 2;
      },
      { namespace: 'ns' },
    );
    const saved = process.env.CP_CACHE_DIR;
    process.env.CP_CACHE_DIR = envDir;
    let fromEnv: Store;
    try {
      fromEnv = fsStore();
    } finally {
      if (saved === undefined) delete process.env.CP_CACHE_DIR;
      else process.env.CP_CACHE_DIR = saved;
    }
    const fromOption = fsStore({ dir: optionDir });
    assert.equal(await layout(1).run({ store: fromEnv }), 2);
    assert.equal(await layout(2).run({ store: fromEnv }), 4);
    assert.equal(await layout(1).run({ store: fromOption }), 2);
    assert.deepEqual(computed, [1, 2, 1]);

    const envTree = await tree(envDir);
    assert.deepEqual(envTree.slice(0, 2), ['checkpoint', 'checkpoint/ns.layout']);
    assert.equal(envTree.length, 4);
    assert.deepEqual(await readdir(join(optionDir, 'checkpoint')), ['ns.layout']);

    assert.equal(await layout(2).run({ store: fsStore({ dir: envDir }) }), 4);
    assert.deepEqual(computed, [1, 2, 1], 'read back through a new store object on the same directory');

    await layout.clear({ store: fromEnv });
    assert.deepEqual(await readdir(join(envDir, 'checkpoint')), []);
    assert.deepEqual(await readdir(join(optionDir, 'checkpoint')), ['ns.layout'], 'the other cache is untouched');
    await layout.clear({ store: fromEnv });
    assert.equal(await layout(2).run({ store: fromEnv }), 4);
    assert.deepEqual(computed, [1, 2, 1, 2], 'recomputed after clear');
    assert.equal(relative(envDir, await onlyFile(envDir, 'ns.layout')).split(sep)[0], 'checkpoint');
  });
});
