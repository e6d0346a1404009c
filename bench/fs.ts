/**
 * The filesystem store, in fresh processes: a cold run's cost per instance against writing the
 * same number of files of the same sizes atomically (temporary file, then rename) with `node:fs`
 * directly; a warm run (everything cached) against the cold run; and whether the warm run
 * deserializes upstream values, counted and timed.
 * @module
 */
import { mkdir, readdir, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inFreshProcess } from './fresh.js';
import { makeGraph } from './graphs.js';
import { format, mapLimited, median, remove, report, scratch, time } from './measure.js';
import type { RunResult, WarmGraph } from './warm.js';

const section = 'fs-warm';
const size = 10_000;
/** Writes in flight in the baseline: enough to keep libuv's threads busy. */
const inFlight = 64;

/** Runs the filesystem store benchmark. */
export async function benchFs(): Promise<void> {
  for (const name of ['choose', 'fan-in'] as const) {
    const { instances } = makeGraph(name, size);
    const cold: RunResult[] = [];
    const warm: RunResult[] = [];
    /** Warm runs after the first, which indexes each folder it reads (see the README). */
    const again: RunResult[] = [];
    const baseline: number[] = [];
    let files: { folder: string; size: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const dir = await scratch();
      try {
        cold.push(await inFreshProcess<RunResult>('warm.ts', 'runGraph', { graph: name, size, dir }));
        if (i === 0) files = await listFiles(join(dir, 'checkpoint'));
        warm.push(await inFreshProcess<RunResult>('warm.ts', 'runGraph', { graph: name, size, dir }));
        again.push(await inFreshProcess<RunResult>('warm.ts', 'runGraph', { graph: name, size, dir }));
      } finally {
        await remove(dir);
      }
      check(name, instances, cold.at(-1), warm.at(-1));
      check(name, instances, cold.at(-1), again.at(-1));
      const baselineDir = await scratch();
      baseline.push(await time(() => writeAtomically(baselineDir, files)));
      await remove(baselineDir);
    }
    if (files.length !== instances) throw new Error(`${name}: expected ${instances} entry files, got ${files.length}`);
    const coldMs = median(cold.map((run) => run.runMs));
    const warmMs = median(warm.map((run) => run.runMs));
    const perInstance = (coldMs / instances) * 1000;
    const perFile = (median(baseline) / instances) * 1000;
    const bytes = files.reduce((total, file) => total + file.size, 0) / instances;
    const ratios = cold.map((run, i) => run.runMs / (baseline[i] as number));
    const ratio = median(ratios);
    report({
      section,
      name: `${name} ${format(instances)} instances, cold, fs store, per instance`,
      value: perInstance,
      unit: 'µs',
      baselineName: `writeFile + rename of as many files of ${format(bytes)} B on average, ${inFlight} in flight`,
      baseline: perFile,
      ratio,
      note: `cold run ${format(coldMs)} ms; ratios ${ratios.map((r) => `${r.toFixed(2)}x`).join(', ')}`,
      aim: { text: '≤ 2x', met: ratio <= 2 },
    });
    report({
      section,
      name: `${name} ${format(instances)} instances, warm run`,
      value: warmMs,
      unit: 'ms',
      baselineName: 'the cold run',
      baseline: coldMs,
      note: `from process start: warm ${format(median(warm.map((run) => run.sinceStartMs)))} ms, cold ${format(median(cold.map((run) => run.sinceStartMs)))} ms`,
      aim: { text: '< 10% of the cold run', met: warmMs < 0.1 * coldMs },
    });
    const againMs = median(again.map((run) => run.runMs));
    report({
      section,
      name: `${name} ${format(instances)} instances, next warm run (from the folder's index)`,
      value: againMs,
      unit: 'ms',
      baselineName: 'the cold run',
      baseline: coldMs,
      note: `${((100 * againMs) / coldMs).toFixed(1)}% of the cold run, ${((100 * againMs) / warmMs).toFixed(0)}% of the first warm run`,
    });
    const deserialized = Math.max(...warm.map((run) => run.deserialized));
    report({
      section,
      name: `${name}: values deserialized by the warm run`,
      value: deserialized,
      unit: 'values',
      baselineName: 'every instance',
      baseline: instances,
      aim: { text: 'only the final value', met: deserialized === 1 },
    });
  }
  await largeUpstream();
}

/** A warm run whose upstream values are 100 MB in all, against the same graph with tiny values. */
async function largeUpstream(): Promise<void> {
  const warm: Record<'big-upstream' | 'small-upstream', RunResult[]> = { 'big-upstream': [], 'small-upstream': [] };
  // Three repetitions, for a true median: the count of deserialized values is exact, and the
  // times differ only if values are read.
  for (let i = 0; i < 3; i++) {
    for (const graph of ['big-upstream', 'small-upstream'] as const) {
      const dir = await scratch();
      try {
        const cold = await inFreshProcess<RunResult>('warm.ts', 'runGraph', { graph, dir });
        warm[graph].push(await inFreshProcess<RunResult>('warm.ts', 'runGraph', { graph, dir }));
        check(graph, cold.computed, cold, warm[graph].at(-1));
      } finally {
        await remove(dir);
      }
    }
  }
  const big = median(warm['big-upstream'].map((run) => run.runMs));
  const small = median(warm['small-upstream'].map((run) => run.runMs));
  report({
    section,
    name: 'warm run, 100 upstream values of 1 MB each',
    value: big,
    unit: 'ms',
    baselineName: 'the same graph with 8-byte upstream values',
    baseline: small,
    note: `${Math.max(...warm['big-upstream'].map((run) => run.deserialized))} value(s) deserialized`,
    aim: { text: '≤ 1.5x: upstream values are not read', met: big <= 1.5 * small },
  });
}

function check(graph: WarmGraph, instances: number, cold?: RunResult, warm?: RunResult): void {
  if (!cold || !warm || cold.computed !== instances || warm.computed !== 0 || warm.value !== cold.value) {
    throw new Error(`${graph}: expected the cold run to compute everything and the warm run nothing, with one value`);
  }
}

/** The entry files under the store's root, with their task folder and size. */
async function listFiles(root: string): Promise<{ folder: string; size: number }[]> {
  const files: { folder: string; size: number }[] = [];
  for (const folder of await readdir(root)) {
    for (const name of await readdir(join(root, folder))) {
      files.push({ folder, size: (await stat(join(root, folder, name))).size });
    }
  }
  return files;
}

/** The baseline: the same files, each written to a temporary name and renamed into place. */
async function writeAtomically(dir: string, files: readonly { folder: string; size: number }[]): Promise<void> {
  for (const folder of new Set(files.map((file) => file.folder))) await mkdir(join(dir, folder), { recursive: true });
  const numbered = files.map((file, i) => ({ ...file, i }));
  await mapLimited(numbered, inFlight, async ({ folder, size, i }) => {
    const path = join(dir, folder, `${i}.entry`);
    await writeFile(`${path}.tmp`, new Uint8Array(size).fill(i & 255));
    await rename(`${path}.tmp`, path);
  });
}
