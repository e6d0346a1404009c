import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunEvent } from 'checkpoint-tool';

/** A fresh temporary directory for one test's cache. */
export function temporaryDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'checkpoint-test-'));
}

/** Records a run's events; `labels(type)` lists the instances that had an event of that type. */
export function recorder() {
  const events: RunEvent[] = [];
  return {
    events,
    onEvent: (event: RunEvent) => {
      events.push(event);
    },
    labels(type: RunEvent['type']): string[] {
      return events.filter((event) => event.type === type).map((event) => event.instance.label);
    },
    clear() {
      events.length = 0;
    },
  };
}

/** The (n, k) pairs of the graph of choose(n, k), and which of them lie downstream of (a, b). */
export function chooseGraph(n: number, k: number): Set<string> {
  const seen = new Set<string>();
  const stack: [number, number][] = [[n, k]];
  while (stack.length > 0) {
    const [i, j] = stack.pop() as [number, number];
    const label = `choose(${i},${j})`;
    if (seen.has(label)) continue;
    seen.add(label);
    if (0 < j && j < i) stack.push([i - 1, j - 1], [i - 1, j]);
  }
  return seen;
}

/** The instances of choose(n, k)'s graph that depend, directly or not, on choose(a, b), and it. */
export function chooseDownstream(n: number, k: number, a: number, b: number): Set<string> {
  const graph = chooseGraph(n, k);
  const result = new Set<string>();
  for (const label of graph) {
    const [i, j] = label.slice(7, -1).split(',').map(Number) as [number, number];
    if (chooseGraph(i, j).has(`choose(${a},${b})`)) result.add(label);
  }
  return result;
}
