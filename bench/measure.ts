/**
 * Timing and reporting helpers of the benchmarks: repetitions with medians, figures printed beside
 * their same-run baseline, and a summary of every figure at the end.
 * @module
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const collect = runInNewContext('gc') as () => void;

/** Runs a full garbage collection, so that one repetition's garbage is not collected in the next. */
export function gc(): void {
  collect();
}

/** A new empty directory for one measurement, under `$BENCH_DIR` (default: the OS's temporary directory). */
export function scratch(): Promise<string> {
  return mkdtemp(join(process.env.BENCH_DIR ?? tmpdir(), 'checkpoint-bench-'));
}

/** Removes a directory made by {@link scratch}. */
export function remove(dir: string): Promise<void> {
  return rm(dir, { recursive: true, force: true });
}

/** Maps with at most `limit` calls pending at once. */
export async function mapLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await fn(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** The median of some numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[middle] as number)
    : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
}

/**
 * Times `fn` once, in ms, after a turn of the event loop and a garbage collection; `setup` runs
 * first and is not timed. The turn lets the process settle as an application's would between
 * runs: its timers run (the end of tasks' holds on their instances), and JavaScript lets go of
 * what `WeakRef`s point to, which it keeps until a turn ends. Without it, a benchmark whose
 * every step is a microtask (runs on the memory store) would be one long turn.
 */
export async function time<T>(fn: (prepared: T) => unknown, setup?: () => T | Promise<T>): Promise<number> {
  const prepared = (await setup?.()) as T;
  await new Promise((resolve) => setImmediate(resolve));
  gc();
  const start = performance.now();
  await fn(prepared);
  return performance.now() - start;
}

/**
 * Measures a figure and its baseline in alternation, `repetitions` times each (after `warmup`
 * untimed rounds), so that both see the same machine: the other processes of a busy machine slow
 * both alike. Returns the times in ms.
 */
export async function paired(
  repetitions: number,
  figure: () => Promise<number>,
  baseline: () => Promise<number>,
  warmup = 0,
): Promise<{ figure: number[]; baseline: number[] }> {
  for (let i = 0; i < warmup; i++) {
    await figure();
    await baseline();
  }
  const times = { figure: [] as number[], baseline: [] as number[] };
  for (let i = 0; i < repetitions; i++) {
    times.figure.push(await figure());
    times.baseline.push(await baseline());
  }
  return times;
}

/** One measured figure beside its baseline. */
export interface Figure {
  readonly section: string;
  readonly name: string;
  /** The figure's median, in `unit`. */
  readonly value: number;
  readonly unit: string;
  readonly baselineName: string;
  /** The baseline's median, in `unit`. */
  readonly baseline: number;
  /**
   * The ratio to print when not `value / baseline`: the median of the ratios of paired
   * repetitions, which a noisy machine (a shared disk, say) disturbs less.
   */
  readonly ratio?: number;
  /** What the issue asks for, as in `≤ 2x`, and whether it is met. */
  readonly aim?: { readonly text: string; readonly met: boolean };
  /** Anything else worth printing, as in `137,000 instances/s`. */
  readonly note?: string;
}

const figures: Figure[] = [];

/** Prints a figure with its baseline and their ratio, and keeps it for the summary. */
export function report(figure: Figure): void {
  figures.push(figure);
  console.log(`  ${line(figure)}`);
}

/** Prints a line that is not a figure. */
export function note(text: string): void {
  console.log(`  ${text}`);
}

/** Prints every figure reported so far, grouped by section. */
export function summary(): void {
  if (figures.length === 0) return;
  console.log('\nSummary (medians; ratio = figure / baseline)');
  let section = '';
  for (const figure of figures) {
    if (figure.section !== section) {
      section = figure.section;
      console.log(`[${section}]`);
    }
    console.log(`  ${line(figure)}`);
  }
  const aims = figures.filter((figure) => figure.aim);
  if (aims.length > 0) console.log(`${aims.filter((figure) => figure.aim?.met).length} of ${aims.length} aims met`);
}

function line({ name, value, unit, baselineName, baseline, ratio, aim, note }: Figure): string {
  const parts = [
    `${name}: ${format(value)} ${unit}`,
    `baseline (${baselineName}) ${format(baseline)} ${unit}`,
    ratio !== undefined
      ? `ratio ${ratio.toFixed(2)}x (median by repetition)`
      : `ratio ${baseline > 0 ? `${(value / baseline).toFixed(2)}x` : 'n/a'}`,
  ];
  if (note) parts.push(note);
  if (aim) parts.push(`aim ${aim.text}: ${aim.met ? 'met' : 'MISSED'}`);
  return parts.join(' | ');
}

/** A number with 3 significant digits and thousands separators, as in `1,234` or `0.0123`. */
export function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const digits = Math.abs(value) >= 100 ? 0 : Math.max(0, 2 - Math.floor(Math.log10(Math.abs(value) || 1)));
  return value.toLocaleString('en-US', { maximumFractionDigits: Math.min(digits, 4) });
}
