/**
 * Scheduler overhead: cold in-process runs of graphs of trivial tasks with the memory store,
 * against the same graphs evaluated with a bare `Map` of promises, at 10k, 30k and 100k instances.
 * @module
 */
import { strict as assert } from 'node:assert';
import { type Instance, memoryStore } from 'checkpoint-tool';
import { bareRun, type GraphName, makeGraph } from './graphs.js';
import { format, median, note, paired, report, time } from './measure.js';

const section = 'scheduler';
const aim = 200_000;
const sizes = [10_000, 30_000, 100_000];

/** Runs the scheduler benchmark. */
export async function benchScheduler(): Promise<void> {
  note(`this machine: ${faultCost().toFixed(1)} µs per page fault (64 MB touched for the first time)`);
  for (const name of ['choose', 'fan-in'] as const) {
    await warmUp(name);
    const perInstance = new Map<number, { library: number; bare: number }>();
    for (const size of sizes) {
      const { instances } = makeGraph(name, size);
      let value: number | undefined;
      const cpu: number[] = [];
      const faults = { library: [] as number[], bare: [] as number[] };
      const run = async ({ root }: { root: Instance<number> }) => {
        const before = process.cpuUsage();
        const faulted = pageFaults();
        value = await root.run({ store: memoryStore() });
        faults.library.push(pageFaults() - faulted);
        const { user, system } = process.cpuUsage(before);
        cpu.push((user + system) / 1000);
      };
      const bare = async () => {
        const faulted = pageFaults();
        await bareRun(name, size);
        faults.bare.push(pageFaults() - faulted);
      };
      const times = await paired(
        5,
        () => time(run, () => makeGraph(name, size)),
        () => time(bare),
      );
      assert.equal(value, await bareRun(name, size), `${name} ${size}: the run computed a wrong value`);
      const library = median(times.figure);
      const baseline = median(times.baseline);
      const rate = (instances / library) * 1000;
      perInstance.set(size, { library: library / instances, bare: baseline / instances });
      report({
        section,
        name: `${name} ${format(instances)} instances, cold, memory store`,
        value: library,
        unit: 'ms',
        baselineName: 'bare Map of promises',
        baseline,
        // CPU time (all threads, GC's included) tells what the run costs when other processes share the cores.
        // Page faults: memory the run touched for the first time (given back by the collection
        // before it). Each costs from under a microsecond to over ten on a VM, so the figures of
        // one machine and another differ by more than their speed.
        note: `${format(rate)} instances/s; ${format((instances / median(cpu)) * 1000)} per CPU-second; page faults ${format(median(faults.library))} (baseline ${format(median(faults.bare))})`,
        aim: { text: `≥ ${format(aim)} instances/s`, met: rate >= aim },
      });
    }
    growth(name, perInstance);
  }
}

/** The process's minor page faults so far: memory touched for the first time. */
function pageFaults(): number {
  return process.resourceUsage().minorPageFault;
}

/**
 * What a page fault costs here, in µs: the time to touch each page of 64 MB of new memory, per
 * fault. A run that keeps more memory than the last collection left it pays this per 4 KiB.
 */
function faultCost(): number {
  const faulted = pageFaults();
  const start = performance.now();
  const bytes = new Uint8Array(64 * 1024 * 1024);
  for (let i = 0; i < bytes.length; i += 4096) bytes[i] = 1;
  return ((performance.now() - start) * 1000) / Math.max(1, pageFaults() - faulted);
}

/**
 * Runs the smallest graph and its baseline until the JIT has compiled both (eight rounds), as
 * benchmark tools warm up before measuring: the figures are then the steady state of a process
 * that has run graphs before. The first run, with nothing compiled yet, is printed too.
 */
async function warmUp(name: GraphName): Promise<void> {
  const size = sizes[0] as number;
  const rates: number[] = [];
  for (let round = 0; round < 8; round++) {
    const graph = makeGraph(name, size);
    const ms = await time(
      ({ root }) => root.run({ store: memoryStore() }),
      () => graph,
    );
    rates.push((graph.instances / ms) * 1000);
    await time(() => bareRun(name, size));
  }
  const shown = rates.map((rate) => format(rate)).join(', ');
  note(`${name}: warm-up, ${format(size)} instances, instances/s by round: ${shown} (the first with nothing compiled)`);
}

/**
 * Reports how the time per instance grows from the smallest graph to the largest. Linear growth
 * keeps it flat; but on this kind of machine even the bare baseline, linear by construction, costs
 * more per instance in a larger graph (a larger heap to collect, fewer cache hits). Growth no
 * larger than the baseline's own, measured in the same run, is counted as linear too.
 */
function growth(name: GraphName, perInstance: Map<number, { library: number; bare: number }>): void {
  const small = perInstance.get(sizes[0] as number);
  const large = perInstance.get(sizes[sizes.length - 1] as number);
  if (!small || !large) return;
  const µs = [...perInstance].map(([size, { library }]) => `${format(size)}: ${format(library * 1000)}`).join(', ');
  note(`${name}: µs per instance by graph size: ${µs} (bare: ${format(large.bare * 1000)} at 100k)`);
  const ratio = large.library / small.library;
  const bareRatio = large.bare / small.bare;
  const linear = ratio <= 1.3 || ratio <= bareRatio;
  report({
    section,
    name: `${name} growth: µs per instance at 100k`,
    value: large.library * 1000,
    unit: 'µs',
    baselineName: 'the same at 10k',
    baseline: small.library * 1000,
    note: `${linear ? 'linear' : 'not linear'}: ${ratio.toFixed(2)}x the cost per instance at 10x the size; the bare baseline's own growth: ${bareRatio.toFixed(2)}x`,
    aim: { text: "linear (≤ 1.3x, or no more than the baseline's growth)", met: linear },
  });
}
