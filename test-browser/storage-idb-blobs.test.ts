import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labContext, openIdbLab } from './idb-lab-session.js';

/** Above Chromium's largest IndexedDB record (133,169,152 serialized bytes). */
const overRecordLimit = 130 * 2 ** 20;
/** Just above the size from which idbStore stores a value as a Blob (120 MiB). */
const blobSized = 121 * 2 ** 20;

describe('idbStore in Chromium: values stored as Blobs', { timeout: 120_000 }, () => {
  test("a value larger than Chromium's largest record is stored, and read back whole after a reload", async () => {
    const context = await labContext();
    const page = await openIdbLab(context);
    const run = () =>
      page.evaluate(async (size) => {
        const { task } = window.checkpoint;
        const sized = task('sized', (n: number) => () => {
          const bytes = new Uint8Array(n);
          for (let i = 0; i < n; i += 4093) bytes[i] = (i >>> 12) & 255;
          return bytes;
        });
        const events: string[] = [];
        const value = await sized(size).run({ onEvent: (event) => events.push(event.type) });
        let same = value.length === size;
        for (let i = 0; i < size && same; i += 4093) same = value[i] === ((i >>> 12) & 255);
        for (let i = 1; i < size && same; i += 4093 * 7) same = value[i] === 0;
        return { events, length: value.length, same };
      }, overRecordLimit);
    assert.deepEqual(await run(), { events: ['planned', 'started', 'finished'], length: overRecordLimit, same: true });
    await page.reload();
    await page.waitForSelector('body[data-ready="true"]', { state: 'attached' });
    assert.deepEqual(await run(), { events: ['planned', 'cached'], length: overRecordLimit, same: true });
    await context.close();
  });

  test('a value on a resizable buffer, which a Blob refuses a view of, is stored and read back', async () => {
    const context = await labContext();
    const page = await openIdbLab(context);
    const run = () =>
      page.evaluate(async (size) => {
        const { task } = window.checkpoint;
        // ES2024's resizable ArrayBuffer, which the ES2023 typings lack.
        const Resizable = ArrayBuffer as unknown as new (n: number, options: { maxByteLength: number }) => ArrayBuffer;
        const sized = task('resizable-sized', (n: number) => () => {
          const bytes = new Uint8Array(new Resizable(n, { maxByteLength: n + 8 }));
          for (let i = 0; i < n; i += 4093) bytes[i] = (i >>> 12) & 255;
          return bytes;
        });
        const events: string[] = [];
        try {
          const value = await sized(size).run({ onEvent: (event) => events.push(event.type) });
          let same = value.length === size;
          for (let i = 0; i < size && same; i += 4093) same = value[i] === ((i >>> 12) & 255);
          return { events, same };
        } catch (error) {
          return { events, same: false, error: String((error as Error).cause ?? error) };
        }
      }, blobSized);
    assert.deepEqual(await run(), { events: ['planned', 'started', 'finished'], same: true });
    assert.deepEqual(await run(), { events: ['planned', 'cached'], same: true });
    await context.close();
  });
});
