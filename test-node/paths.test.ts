import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join, relative, sep } from 'node:path';
import { test } from 'node:test';
import { fsStore, task } from 'checkpoint-tool';
import fc from 'fast-check';
import { temporaryDir } from './helpers.js';

const echo = task('paths-echo', (value: unknown) => () => value);

/** Every file under `dir`, relative to it. */
async function files(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => relative(dir, join(entry.parentPath, entry.name)));
}

// Strings that try to escape or collide: separators, dots, NUL, lone surrogates, long runs.
const hostile = fc.oneof(
  fc.constantFrom('..', '../..', '/', '\\', '.', '\0', '/etc/passwd', 'C:\\x', '__proto__', '\ud800', 'a'.repeat(300)),
  fc.string({ unit: 'binary', maxLength: 40 }),
);
const argument = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostile,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(hostile, tie('value'), { maxKeys: 3 }),
  ),
})).value;

test('whatever the arguments hold, entries stay in the task folder, one file per distinct instance', async () => {
  const dir = await temporaryDir();
  const store = fsStore({ dir });
  const keys = new Set<string>();
  await fc.assert(
    fc.asyncProperty(argument, async (value) => {
      const instance = echo(value);
      keys.add(instance.key);
      assert.deepEqual(await instance.run({ store }), JSON.parse(instance.key)[0]);
      const stored = await files(dir);
      for (const file of stored) {
        assert.match(file, new RegExp(`^checkpoint\\${sep}paths-echo\\${sep}[0-9a-f]{64}\\.entry$`));
      }
      assert.equal(stored.length, keys.size, 'distinct instances never share a file');
    }),
    { numRuns: 150 },
  );
  assert.deepEqual(new Set(await store.keys('paths-echo')), keys);
});
