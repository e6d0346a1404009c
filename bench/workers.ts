/**
 * Worker pools: the per-job dispatch overhead of `nodePool` against a bare worker_threads
 * `postMessage` round trip measured in the same run, and the speed-up of a CPU-bound graph on
 * every core against the in-process executor.
 *
 * This module is also the tasks module of the pool it measures: its workers import it, which
 * defines the tasks below (and only defines `benchWorkers`, without calling it).
 * @module
 */
import { strict as assert } from 'node:assert';
import { availableParallelism, cpus, loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { inProcess, type Job, memoryStore, nodePool, requires, task } from 'checkpoint-tool';
import { format, median, note, paired, report, time } from './measure.js';

const section = 'workers';
const namespace = 'benchWorkers';

/** A task that does nothing: what is left of a job is its dispatch. */
export const noop = task('noop', (i: number) => () => i, { namespace });

/** Pure arithmetic: `iterations` steps of a linear congruential generator. */
function spin(seed: number, iterations: number): number {
  let x = seed;
  for (let k = 0; k < iterations; k++) x = (x * 1103515245 + 12345) % 2147483648;
  return x;
}

export const crunch = task('crunch', (i: number, iterations: number) => () => spin(i, iterations), { namespace });

export const crunchAll = task(
  'crunchAll',
  (n: number, iterations: number) =>
    requires(...Array.from({ length: n }, (_, i) => crunch(i, iterations)))((...values) =>
      values.reduce((sum, x) => (sum + x) % 2147483648, 0),
    ),
  { namespace },
);

// A worker that answers each message with a result shaped like the pool's, as fast as it can.
const echo = `
const { parentPort } = require('node:worker_threads');
parentPort.on('message', (job) => parentPort.postMessage({ ok: true, value: job.args[0] }));
`;

/** Runs the worker benchmarks. */
export async function benchWorkers(): Promise<void> {
  // Other processes on the cores make the speed-up meaningless: say how busy the machine was.
  note(`load average ${loadavg()[0]?.toFixed(2)} on ${availableParallelism()} cores before the workers section`);
  await dispatch();
  await speedUp();
}

async function dispatch(): Promise<void> {
  const calls = 2000;
  const pool = nodePool(new URL(import.meta.url), { size: 1 });
  const bare = new Worker(echo, { eval: true });
  try {
    const job = (i: number): Job => ({ task: noop.id, version: '', key: `[${i}]`, args: [i], inputs: [] });
    let answer: ((value: unknown) => void) | undefined;
    bare.on('message', (message: unknown) => answer?.(message));
    const roundTrip = (message: Job) =>
      new Promise((resolve) => {
        answer = resolve;
        bare.postMessage(message);
      });
    const viaPool = (i: number) => pool.execute(job(i), {});
    const viaBare = async (i: number) => ((await roundTrip(job(i))) as { value: number }).value;
    const times = await paired(
      7,
      () => time(() => run(viaPool)),
      () => time(() => run(viaBare)),
      2,
    );
    async function run(send: (i: number) => Promise<unknown>): Promise<void> {
      for (let i = 0; i < calls; i++) {
        const value = await send(i);
        if (value !== i) throw new Error(`job ${i} came back as ${String(value)}`);
      }
    }
    const perPool = (median(times.figure) / calls) * 1000;
    const perBare = (median(times.baseline) / calls) * 1000;
    report({
      section,
      name: 'pool dispatch, one job at a time (noop task)',
      value: perPool,
      unit: 'µs/job',
      baselineName: 'bare worker_threads postMessage round trip',
      baseline: perBare,
      note: `${format(perPool - perBare)} µs more per job`,
      aim: { text: '< 2x', met: perPool < 2 * perBare },
    });
  } finally {
    await Promise.all([pool.close(), bare.terminate()]);
  }
}

async function speedUp(): Promise<void> {
  const cores = availableParallelism();
  const jobs = 4 * cores;
  const iterations = calibrate(50);
  const pool = nodePool(new URL(import.meta.url));
  try {
    const started = performance.now();
    await crunch(-1, 1).run({ executor: pool, store: memoryStore() });
    note(`a new pool's first result: ${format(performance.now() - started)} ms (worker start and module load)`);
    let inWorkers: number | undefined;
    let inMain: number | undefined;
    const busy = otherProcesses();
    const times = await paired(
      5,
      () =>
        time(async () => {
          inWorkers = await crunchAll(jobs, iterations).run({ executor: pool, store: memoryStore() });
        }),
      () =>
        time(async () => {
          inMain = await crunchAll(jobs, iterations).run({ executor: inProcess(), store: memoryStore() });
        }),
      1,
    );
    const others = busy();
    assert.equal(inWorkers, inMain);
    const workers = median(times.figure);
    const main = median(times.baseline);
    const speedUp = main / workers;
    report({
      section,
      name: `CPU-bound graph, ${jobs} jobs of ~50 ms, pool of ${pool.size}`,
      value: workers,
      unit: 'ms',
      baselineName: 'in-process executor',
      baseline: main,
      note: `speed-up ${speedUp.toFixed(2)}x on ${cores} cores; other processes took ${(100 * others).toFixed(0)}% of the CPU meanwhile`,
      aim: cores >= 2 ? { text: `speed-up > ${(0.9 * cores).toFixed(1)}x`, met: speedUp > 0.9 * cores } : undefined,
    });
  } finally {
    await pool.close();
  }
}

/**
 * Starts watching the CPU: the returned function tells what share of all cores' time other
 * processes used since (busy time of the machine less this process's own).
 */
function otherProcesses(): () => number {
  const machine = () =>
    cpus().reduce((sum, { times: t }) => [sum[0]! + t.user + t.nice + t.sys + t.irq, sum[1]! + t.idle], [0, 0]);
  const [busy0, idle0] = machine() as [number, number];
  const own0 = process.cpuUsage();
  return () => {
    const [busy1, idle1] = machine() as [number, number];
    const own = process.cpuUsage(own0);
    const total = busy1 - busy0 + (idle1 - idle0);
    return Math.max(0, busy1 - busy0 - (own.user + own.system) / 1000) / total;
  };
}

/** How many iterations of `spin` take about `ms` milliseconds here. */
function calibrate(ms: number): number {
  const probe = 2_000_000;
  spin(0, probe);
  const began = performance.now();
  spin(1, probe);
  return Math.round((probe * ms) / (performance.now() - began));
}
