import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labContext, openIdbLab } from './idb-lab-session.js';

const MiB = 2 ** 20;

describe('idbStore in Chromium: values stored as Blobs', { timeout: 120_000 }, () => {
  for (const [what, size, resizable] of [
    // Above Chromium's largest IndexedDB record (133,169,152 serialized bytes).
    ["a value larger than Chromium's largest record", 130 * MiB, false],
    // Just above the size from which idbStore makes a Blob (120 MiB); a Blob refuses a view of such a buffer.
    ['a value on a resizable buffer', 121 * MiB, true],
  ] as const) {
    test(`${what} is stored, and read back whole after a reload`, async () => {
      const context = await labContext();
      const page = await openIdbLab(context);
      const run = () =>
        page.evaluate(
          async ({ size, resizable }) => {
            // ES2024's resizable ArrayBuffer, which the ES2023 typings lack.
            const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
            const sized = window.checkpoint.task('sized', (n: number, onResizable: boolean) => () => {
              const bytes = onResizable
                ? new Uint8Array(new Resizable(n, { maxByteLength: n + 8 }))
                : new Uint8Array(n);
              for (let i = 0; i < n; i += 4093) bytes[i] = (i >>> 12) & 255;
              return bytes;
            });
            const events: string[] = [];
            const value = await sized(size, resizable).run({ onEvent: (event) => events.push(event.type) });
            let same = value.length === size;
            for (let i = 0; i < size && same; i += 4093) same = value[i] === ((i >>> 12) & 255);
            for (let i = 1; i < size && same; i += 4093 * 7) same = value[i] === 0;
            return { events, length: value.length, same };
          },
          { size, resizable },
        );
      assert.deepEqual(await run(), { events: ['planned', 'started', 'finished'], length: size, same: true });
      await page.reload();
      await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
      assert.deepEqual(await run(), { events: ['planned', 'cached'], length: size, same: true });
      await context.close();
    });
  }
});
