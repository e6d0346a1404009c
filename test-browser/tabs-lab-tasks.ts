/**
 * The tabs lab's tasks: Pascal's triangle, each computation announced on a BroadcastChannel and
 * gated by the lab's observer tab, which decides when (or whether) it goes on.
 * @module
 */
import { type Compute, requires, task } from 'checkpoint-tool/browser';

/** The channel every computation, in any tab or worker of the origin, speaks on. */
export const channelName = 'checkpoint-tabs-lab';

/** A message of the lab's channel. */
export type LabMessage =
  | { type: 'start'; id: string; label: string; where: string }
  | { type: 'done'; id: string; label: string; where: string; value: number }
  | { type: 'go'; id: string };

/** Where this code runs: a worker's name, or the tab's name the page set. */
function where(): string {
  const scope = globalThis as { name?: string; tabsLabTab?: string };
  return scope.tabsLabTab ?? scope.name ?? 'unknown';
}

/** Announces a computation and waits until the observer lets it go on. */
async function gate(label: string, compute: () => number): Promise<number> {
  const channel = new BroadcastChannel(channelName);
  const id = crypto.randomUUID();
  const place = where();
  try {
    await new Promise<void>((resolve) => {
      channel.onmessage = (event: MessageEvent<LabMessage>) => {
        if (event.data.type === 'go' && event.data.id === id) resolve();
      };
      channel.postMessage({ type: 'start', id, label, where: place } satisfies LabMessage);
    });
    const value = compute();
    channel.postMessage({ type: 'done', id, label, where: place, value } satisfies LabMessage);
    return value;
  } finally {
    channel.close();
  }
}

/** choose(n, k), Pascal's way, each instance gated. */
export const cell = task(
  'cell',
  (n: number, k: number): Compute<number> => {
    const label = `tabs.cell(${n},${k})`;
    if (0 < k && k < n) return requires(cell(n - 1, k - 1), cell(n - 1, k))((a, b) => gate(label, () => a + b));
    return () => gate(label, () => 1);
  },
  { namespace: 'tabs' },
);
