import assert from 'node:assert/strict';
import { mkdtemp, readdir } from 'node:fs/promises';
import { syncBuiltinESMExports } from 'node:module';
import { tmpdir } from 'node:os';
import { join, sep } from 'node:path';
import type { RunEvent, Store } from 'checkpoint-tool';

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

/** Runs an instance and says whether it came from the cache. */
export async function runOnce<T>(instance: { run(options: object): Promise<T> }, store: Store) {
  const types: RunEvent['type'][] = [];
  const value = await instance.run({ store, onEvent: (event: RunEvent) => types.push(event.type) });
  return { value, cached: types.includes('cached') && !types.includes('started') };
}

/** Computes an instance afresh, then runs it again: its value as read back from the cache. */
export async function computedThenRead<T>(
  instance: { run(options: object): Promise<T>; clear(options: object): Promise<void> },
  store: Store,
): Promise<T> {
  await instance.clear({ store });
  await instance.run({ store });
  const { value, cached } = await runOnce(instance, store);
  assert.ok(cached);
  return value;
}

/** Every file and folder under `root`, as paths relative to it with `/` separators, sorted. */
export async function tree(root: string): Promise<string[]> {
  const entries = await readdir(root, { recursive: true });
  return entries.map((path) => path.split(sep).join('/')).sort();
}

/** The name of the only lock file in `folder`, if there is one. */
export async function onlyLock(dir: string, folder: string): Promise<string | undefined> {
  const names = (await readdir(join(dir, 'checkpoint', folder))).filter((name) => name.endsWith('.lock'));
  assert.ok(names.length <= 1, `at most one lock in ${folder}: ${names}`);
  return names[0];
}

/** The path of the only entry file of `folder`. */
export async function onlyFile(dir: string, folder: string): Promise<string> {
  const names = await readdir(join(dir, 'checkpoint', folder));
  assert.equal(names.length, 1, `one file in ${folder}: ${names}`);
  return join(dir, 'checkpoint', folder, names[0] as string);
}

/** A promise and the function that resolves it, for a test to await a moment another part reaches. */
export function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((done) => {
    resolve = done;
  });
  return { promise, resolve };
}

/**
 * Replaces a function of a built-in module (get the module with `createRequire`, so that the
 * library's own imports see the change) until the returned undo is called.
 */
export function patch<M extends object, K extends keyof M>(module: M, name: K, replacement: M[K]): () => void {
  const original = module[name];
  module[name] = replacement;
  syncBuiltinESMExports();
  return () => {
    module[name] = original;
    syncBuiltinESMExports();
  };
}
