/**
 * IndexedDB in Chromium: cold and warm runs of a graph with `idbStore`, in a page built with Vite
 * that imports 'checkpoint-tool' (bench/idb/), against idb-keyval's `setMany`/`getMany` of the
 * same records in the same page. Each measurement starts from a fresh page load. With
 * `BENCH_CPU_PROF_DIR` set, the first cold and warm runs of each graph are profiled (Chrome
 * DevTools protocol) into `.cpuprofile` files there, for bench/cpu-profile.ts.
 * @module
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { build, preview } from 'vite';
import { launch } from '../test-browser/helpers.js';
import { type GraphName, makeGraph } from './graphs.js';
import { format, median, report } from './measure.js';

const section = 'idb';
// Smaller than the Node.js graphs: IndexedDB costs about 1 ms per instance here.
const graphs: readonly [GraphName, number][] = [
  ['choose', 2_000],
  ['fan-in', 2_000],
];
const repetitions = 3;

/** Runs the IndexedDB benchmark. */
export async function benchIdb(): Promise<void> {
  const outDir = await mkdtemp(join(tmpdir(), 'checkpoint-bench-idb-'));
  const root = fileURLToPath(new URL('./idb/', import.meta.url));
  await build({
    configFile: false,
    root,
    base: './',
    logLevel: 'warn',
    // Unminified when profiling, so that profiles name the functions.
    build: { outDir, emptyOutDir: true, target: 'es2022', minify: !process.env.BENCH_CPU_PROF_DIR },
  });
  const server = await preview({
    configFile: false,
    root,
    logLevel: 'warn',
    build: { outDir },
    preview: { host: '127.0.0.1', port: 0 },
  });
  const url = server.resolvedUrls?.local[0];
  const browser = await launch();
  try {
    if (!url) throw new Error('vite preview gave no URL');
    const page = await browser.newPage();
    page.on('pageerror', (error) => console.error(`  page error: ${error.message}`));
    for (const [graph, size] of graphs) await measure(page, url, graph, size);
  } finally {
    await browser.close();
    await server.close();
    await rm(outDir, { recursive: true, force: true });
  }
}

async function measure(page: Page, url: string, graph: GraphName, size: number): Promise<void> {
  const { instances } = makeGraph(graph, size);
  const times = { cold: [] as number[], warm: [] as number[], set: [] as number[], get: [] as number[] };
  let records = 0;
  // Each step starts from a fresh page load, as a reload of the app would.
  const fresh = async () => {
    await page.goto(url);
    await page.waitForFunction(() => 'bench' in window);
  };
  for (let i = 0; i < repetitions; i++) {
    const db = `bench-${graph}-${i}`;
    const raw = `bench-raw-${graph}-${i}`;
    await fresh();
    const cold = await profiled(page, `${graph}-cold`, i, () =>
      page.evaluate(([g, s, d]) => window.bench.run(g, s, d), [graph, size, db] as const),
    );
    await fresh();
    const warm = await profiled(page, `${graph}-warm`, i, () =>
      page.evaluate(([g, s, d]) => window.bench.run(g, s, d), [graph, size, db] as const),
    );
    if (cold.computed !== instances || warm.computed !== 0 || warm.value !== cold.value) {
      throw new Error(`${graph}: the cold run computed ${cold.computed}, the warm run ${warm.computed}`);
    }
    await fresh();
    const set = await page.evaluate(([from, to]) => window.bench.setMany(from, to), [db, raw] as const);
    await fresh();
    const get = await page.evaluate(([from, keysFrom]) => window.bench.getMany(from, keysFrom), [raw, db] as const);
    // In a fresh page, which holds no connection that would block the deletion.
    await fresh();
    await page.evaluate((names) => window.bench.drop(...names), [db, raw]);
    times.cold.push(cold.ms);
    times.warm.push(warm.ms);
    times.set.push(set.ms);
    times.get.push(get.ms);
    records = get.records;
  }
  const cold = median(times.cold);
  const warm = median(times.warm);
  report({
    section,
    name: `${graph} ${format(instances)} instances, cold run, IndexedDB`,
    value: cold,
    unit: 'ms',
    baselineName: `idb-keyval setMany of the same ${format(records)} records`,
    baseline: median(times.set),
    note: `${format((cold / instances) * 1000)} µs per instance`,
  });
  report({
    section,
    name: `${graph} ${format(instances)} instances, warm run, IndexedDB`,
    value: warm,
    unit: 'ms',
    baselineName: `idb-keyval getMany of the same ${format(records)} records`,
    baseline: median(times.get),
    note: `${((100 * warm) / cold).toFixed(1)}% of the cold run`,
  });
}

/** Runs `fn`, profiling the page during the first repetition when `$BENCH_CPU_PROF_DIR` is set. */
async function profiled<T>(page: Page, name: string, repetition: number, fn: () => Promise<T>): Promise<T> {
  const dir = process.env.BENCH_CPU_PROF_DIR;
  if (!dir || repetition > 0) return fn();
  const session = await page.context().newCDPSession(page);
  await session.send('Profiler.enable');
  await session.send('Profiler.start');
  const result = await fn();
  const { profile } = await session.send('Profiler.stop');
  await session.detach();
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, `idb-${name}.cpuprofile`), JSON.stringify(profile));
  return result;
}
