/**
 * Large values: storing and loading a 100 MB `Float64Array` through the filesystem store,
 * compressed and not, against `fs.writeFile`/`readFile` of the same bytes; and the peak memory of
 * each, each in a fresh process.
 * @module
 */
import { strict as assert } from 'node:assert';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fsStore, task } from 'checkpoint-tool';
import { unzlibSync, zlibSync } from 'fflate';
import { inFreshProcess } from './fresh.js';
import { format, gc, median, paired, remove, report, scratch, time } from './measure.js';

const section = 'large';
const MB = 2 ** 20;
const bytes = 100 * MB;

type Encoding = 'raw' | 'zlib';

/** A quantized sine: compresses to about a sixth, as measured data often does. */
function makeArray(): Float64Array {
  const array = new Float64Array(bytes / 8);
  for (let i = 0; i < array.length; i++) array[i] = Math.round(1000 * Math.sin(i / 1000));
  return array;
}

function bigTask(encoding: Encoding, array: Float64Array | undefined) {
  return task(`big-${encoding}`, (n: number) => () => array ?? new Float64Array(n), { compress: encoding === 'zlib' })(
    bytes / 8,
  );
}

/** Runs the large-value benchmark. */
export async function benchLarge(): Promise<void> {
  const dir = await scratch();
  try {
    await timing(dir);
    await peakMemory(dir);
  } finally {
    await remove(dir);
  }
}

/** The times of one encoding's store and load, and of fflate with `fs` directly, in ms. */
interface Timings {
  readonly stored: { figure: number[]; baseline: number[] };
  readonly loaded: { figure: number[]; baseline: number[] };
  readonly direct: { figure: number[]; baseline: number[] } | undefined;
}

/**
 * Times storing and loading in a fresh process: in this one, the heap the earlier sections left
 * (their tasks' instances) would be marked by the garbage collector during the library's runs,
 * which allocate, and not during the baseline's single calls.
 */
async function timing(dir: string): Promise<void> {
  const all = await inFreshProcess<Record<Encoding, Timings>>('large.ts', 'measureTimes', { dir });
  for (const encoding of ['raw', 'zlib'] as const) {
    const { stored, loaded, direct } = all[encoding];
    for (const [what, times, baselineName, directTimes] of [
      ['store', stored, 'fs.writeFile of the bytes', direct?.figure],
      ['load', loaded, 'fs.readFile of the bytes', direct?.baseline],
    ] as const) {
      const value = median(times.figure);
      const baseline = median(times.baseline);
      report({
        section,
        name: `${what} 100 MB Float64Array, ${encoding === 'raw' ? 'uncompressed' : 'compressed (zlib level 6)'}`,
        value,
        unit: 'ms',
        baselineName,
        baseline,
        note:
          directTimes &&
          `fflate + fs directly: ${format(median(directTimes))} ms (${(value / median(directTimes)).toFixed(2)}x)`,
        aim: encoding === 'raw' ? { text: '≤ 1.5x', met: value <= 1.5 * baseline } : undefined,
      });
    }
  }
}

/** In a child process: the times of storing and loading the array, each encoding, with their baselines. */
export async function measureTimes({ dir }: { dir: string }): Promise<Record<Encoding, Timings>> {
  const array = makeArray();
  const raw = new Uint8Array(array.buffer);
  const rawPath = join(dir, 'raw.bin');
  const result: Partial<Record<Encoding, Timings>> = {};
  for (const encoding of ['raw', 'zlib'] as const) {
    const store = fsStore({ dir: join(dir, encoding) });
    const instance = bigTask(encoding, array);
    // Compression takes seconds: fewer repetitions. Uncompressed, five, after an untimed round:
    // any write of 100 MB, the library's or the baseline's, now and then takes 3 to 10 times
    // its usual time on this machine's disk (the kernel finding memory for the page cache).
    const repetitions = encoding === 'raw' ? 5 : 2;
    const stored = await paired(
      repetitions,
      () =>
        time(
          () => instance.run({ store }),
          () => instance.clear({ store }),
        ),
      () => time(() => writeFile(rawPath, raw)),
      encoding === 'raw' ? 1 : 0,
    );
    let loadedValue: Float64Array | undefined;
    const loaded = await paired(
      repetitions,
      () =>
        time(async () => {
          loadedValue = await instance.run({ store });
        }),
      () => time(async () => new Float64Array((await readFile(rawPath)).buffer)),
    );
    assert.equal(loadedValue?.length, array.length);
    assert.equal(loadedValue?.[12345], array[12345]);
    loadedValue = undefined;
    const direct =
      encoding === 'zlib'
        ? await paired(
            repetitions,
            () => time(() => writeFile(rawPath, zlibSync(raw, { level: 6 }))),
            () => time(async () => unzlibSync(await readFile(rawPath))),
          )
        : undefined;
    result[encoding] = { stored, loaded, direct };
    gc();
  }
  return result as Record<Encoding, Timings>;
}

type MemoryOp = 'writeFile' | 'readFile' | `${'store' | 'load'}-${Encoding}`;

/** Peak memory of each operation in a fresh process, beyond what the process held before it. */
async function peakMemory(dir: string): Promise<void> {
  const peaks = new Map<MemoryOp, number>();
  for (const op of ['writeFile', 'readFile', 'store-raw', 'load-raw', 'store-zlib', 'load-zlib'] as const) {
    peaks.set(op, (await inFreshProcess<{ extra: number }>('large.ts', 'measureMemory', { op, dir })).extra);
  }
  for (const [op, baselineOp] of [
    ['store-raw', 'writeFile'],
    ['load-raw', 'readFile'],
    ['store-zlib', 'writeFile'],
    ['load-zlib', 'readFile'],
  ] as const) {
    const value = (peaks.get(op) as number) / MB;
    const baseline = (peaks.get(baselineOp) as number) / MB;
    report({
      section,
      name: `peak memory to ${op.replace('-raw', ' uncompressed').replace('-zlib', ' compressed')}, beyond the array`,
      value,
      unit: 'MB',
      baselineName: `fs.${baselineOp}`,
      baseline,
      note: `${((value - baseline) / 100).toFixed(2)} copies more than the baseline`,
      // A full copy shows as about 100 MB; the measure itself varies by a few MB.
      aim: { text: 'no full extra copy (< 50 MB over the baseline)', met: value - baseline < 50 },
    });
  }
}

/**
 * In a child process: one operation on the 100 MB array, and how far the resident set grew
 * beyond what it was just before (the array included, for stores and writes).
 */
export async function measureMemory({ op, dir }: { op: MemoryOp; dir: string }): Promise<{ extra: number }> {
  const encoding: Encoding = op.endsWith('zlib') ? 'zlib' : 'raw';
  const store = fsStore({ dir: join(dir, encoding) });
  const rawPath = join(dir, 'raw.bin');
  const array = op === 'writeFile' || op.startsWith('store') ? makeArray() : undefined;
  const instance = bigTask(encoding, array);
  if (op.startsWith('store')) await instance.clear({ store });
  gc();
  const before = process.memoryUsage().rss;
  let result: unknown;
  if (op === 'writeFile') await writeFile(rawPath, new Uint8Array((array as Float64Array).buffer));
  else if (op === 'readFile') result = new Float64Array((await readFile(rawPath)).buffer);
  else result = await instance.run({ store });
  const extra = process.resourceUsage().maxRSS * 1024 - before;
  if (op.startsWith('load')) assert.equal((result as Float64Array).length, bytes / 8);
  return { extra };
}
