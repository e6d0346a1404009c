/**
 * The page the tabs tests open several times at once: the lab's tasks, runs of them in process or
 * on a pool of Web Workers, and, in the observer tab, the gate every computation of the origin
 * waits at, exposed as `window.tabsLab`.
 * @module
 */
import * as checkpoint from 'checkpoint-tool/browser';
import { type RunEvent, webPool } from 'checkpoint-tool/browser';
import { cell, channelName, type LabMessage } from './tabs-lab-tasks.js';

const tab = new URL(location.href).searchParams.get('tab') ?? 'tab';
(globalThis as { tabsLabTab?: string }).tabsLabTab = `${tab}-main`;

/** What a run did so far, by label. */
export interface TabsReport {
  done: boolean;
  value?: number;
  error?: string;
  errorName?: string;
  planned: string[];
  cached: string[];
  started: string[];
  finished: string[];
  failed: string[];
  skipped: string[];
}

let report: TabsReport | undefined;
let controller: AbortController | undefined;
let pool: ReturnType<typeof webPool> | undefined;

/** Runs cell(n, k) in this tab, on a pool of `size` workers if given, and reports. */
async function run(n: number, k: number, poolSize?: number): Promise<TabsReport> {
  const current: TabsReport = {
    done: false,
    planned: [],
    cached: [],
    started: [],
    finished: [],
    failed: [],
    skipped: [],
  };
  report = current;
  controller = new AbortController();
  if (poolSize && !pool) {
    pool = webPool({
      create: (name) => new Worker(new URL('tabs-lab-worker.js', location.href), { type: 'module', name }),
      size: poolSize,
      name: `${tab}-worker`,
    });
  }
  const onEvent = (event: RunEvent) => {
    const list = (current as unknown as Record<string, string[]>)[event.type];
    list?.push(event.instance.label);
  };
  try {
    current.value = await cell(n, k).run({ onEvent, executor: poolSize ? pool : undefined, signal: controller.signal });
  } catch (error) {
    current.error = String(error);
    current.errorName = (error as Error).name;
  }
  current.done = true;
  return current;
}

/** The observer's record of every computation of the origin, and its gate. */
const observed = {
  starts: [] as { label: string; where: string }[],
  dones: [] as { label: string; where: string; value: number }[],
};
const held: { id: string; label: string; where: string }[] = [];
let policy: { hold: boolean; stall: string[] } = { hold: false, stall: [] };
let channel: BroadcastChannel | undefined;
const go = (id: string) => channel?.postMessage({ type: 'go', id } satisfies LabMessage);

/** Whether the policy stalls a computation: its place starts with an item, or its label is one. */
const stalled = ({ where, label }: { where: string; label: string }) =>
  policy.stall.some((item) => where.startsWith(item) || label === item);

/** Makes this tab the observer: it counts every computation and lets each go on per `policy`. */
function observe(): void {
  channel = new BroadcastChannel(channelName);
  channel.onmessage = (event: MessageEvent<LabMessage>) => {
    const message = event.data;
    if (message.type === 'start') {
      observed.starts.push({ label: message.label, where: message.where });
      if (stalled(message)) return;
      if (policy.hold) held.push(message);
      else go(message.id);
    } else if (message.type === 'done') {
      observed.dones.push({ label: message.label, where: message.where, value: message.value });
    }
  };
}

/** Sets the gate's policy; computations held so far go on unless still held or stalled. */
function setPolicy(next: { hold: boolean; stall: string[] }): void {
  policy = next;
  if (policy.hold) return;
  for (const message of held.splice(0)) {
    if (stalled(message)) continue;
    go(message.id);
  }
}

const tabsLab = {
  checkpoint,
  cell,
  tab,
  run,
  progress: () => report,
  /** Cancels this tab's current run. */
  cancel: () => controller?.abort(),
  observe,
  setPolicy,
  observed: () => observed,
  releaseHeld: () => {
    for (const message of held.splice(0)) go(message.id);
  },
  held: () => held.map(({ label, where }) => ({ label, where })),
};

declare global {
  interface Window {
    tabsLab: typeof tabsLab;
  }
}

window.tabsLab = tabsLab;
document.body.dataset.ready = 'true';
