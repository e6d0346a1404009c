import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

test('option types accept undefined for any option under exactOptionalPropertyTypes', async () => {
  const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
  const file = fileURLToPath(new URL('./fixtures/exact-optional.ts', import.meta.url));
  const args = [tsc, '--noEmit', '--strict', '--exactOptionalPropertyTypes', '--skipLibCheck', '--module', 'nodenext'];
  const result = await promisify(execFile)(process.execPath, [
    ...args,
    '--moduleResolution',
    'nodenext',
    '--types',
    'node',
    file,
  ]).catch((error: { stdout: string }) => error);
  assert.equal(result.stdout, '', 'tsc reports no error');
});
