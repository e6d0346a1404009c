/**
 * `npm run bench [-- section...]`: measures the library against baselines taken in the same run
 * and prints each figure beside its baseline. With section names (or parts of them), runs only
 * those: `npm run bench -- scheduler warm`. Sections: scheduler, fs-warm, large, idb, workers.
 * @module
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { benchFs } from './fs.js';
import { benchLarge } from './large.js';
import { summary } from './measure.js';
import { benchScheduler } from './scheduler.js';

const sections: Record<string, () => Promise<void>> = {
  scheduler: benchScheduler,
  'fs-warm': benchFs,
  large: benchLarge,
  idb: async () => (await import('./idb.js')).benchIdb(),
  workers: benchWorkersIfPresent,
};

/** Worker dispatch is measured by bench/workers.ts, when it exists. */
async function benchWorkersIfPresent(): Promise<void> {
  const file = new URL('./workers.ts', import.meta.url);
  if (!existsSync(file)) {
    console.log('  (bench/workers.ts not found: skipped)');
    return;
  }
  const module = (await import(file.href)) as { benchWorkers?: () => Promise<void> };
  if (typeof module.benchWorkers !== 'function') throw new Error('bench/workers.ts exports no benchWorkers()');
  await module.benchWorkers();
}

/** The 1-minute load average: above the number of cores, other processes are slowing every figure. */
function load(): string {
  return (loadavg()[0] as number).toFixed(1);
}

const filters = process.argv.slice(2);
const unknown = filters.filter((filter) => !Object.keys(sections).some((name) => name.includes(filter)));
if (unknown.length > 0) {
  console.error(`Unknown section(s) ${unknown.join(', ')}; sections: ${Object.keys(sections).join(', ')}`);
  process.exit(2);
}
console.log(
  `Node ${process.version}, ${availableParallelism()} cores, load average ${load()}; medians of repetitions, baselines measured alongside`,
);
const start = performance.now();
for (const [name, bench] of Object.entries(sections)) {
  if (filters.length > 0 && !filters.some((filter) => name.includes(filter))) continue;
  console.log(`\n[${name}]`);
  // Each section starts on a quiet disk: the previous one's dirty pages flushed (where `sync` exists).
  spawnSync('sync');
  const began = performance.now();
  await bench();
  console.log(`  (${((performance.now() - began) / 1000).toFixed(1)} s; load average ${load()})`);
}
summary();
console.log(`\nTotal ${((performance.now() - start) / 1000).toFixed(0)} s`);
