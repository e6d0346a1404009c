/**
 * The page the cancellation tests open: the lab's tasks and a way to make pools of the lab's
 * workers, exposed as `window.cancelLab`.
 * @module
 */
import * as checkpoint from 'checkpoint-tool/browser';
import * as tasks from './cancel-lab-tasks.js';

/** A pool of one lab worker, started on its first job. */
const pool = checkpoint.webPool({
  // Not the literal form: the test serves the worker's bundle itself.
  create: (name) => new Worker(new URL('cancel-lab-worker.js', location.href), { type: 'module', name }),
  size: 1,
});

/** An error class of the page's, not registered on the serializer. */
class PageMovedOn extends Error {
  override name = 'PageMovedOn';
  readonly detail: string;
  constructor(message: string, detail: string) {
    super(message);
    this.detail = detail;
  }
}

/** What a run started by {@link start} did: its events, and how it settled. */
export interface RunReport {
  events: string[];
  value?: unknown;
  error?: { name: string; message: string; causeIsReason: boolean };
}

let current:
  | { controller: AbortController; report: RunReport; started: Promise<void>; settled: Promise<RunReport> }
  | undefined;

/** Starts a run of `instance` with a signal of its own: {@link cancel} fires it, {@link settled} awaits the run. */
function start(
  instance: { run(options: checkpoint.RunOptions): Promise<unknown> },
  options: Omit<checkpoint.RunOptions, 'signal' | 'onEvent'>,
): void {
  const controller = new AbortController();
  const report: RunReport = { events: [] };
  let onStarted!: () => void;
  const started = new Promise<void>((resolve) => {
    onStarted = resolve;
  });
  const settled = instance
    .run({
      ...options,
      signal: controller.signal,
      onEvent: (event) => {
        if (event.type === 'started') onStarted();
        const worker = event.type === 'started' ? ` ${event.worker}` : '';
        report.events.push(`${event.type} ${event.instance.label}${worker}`);
      },
    })
    .then(
      (value) => {
        report.value = value;
        return report;
      },
      (error: Error) => {
        report.error = {
          name: error.name,
          message: error.message,
          causeIsReason: error.cause === controller.signal.reason,
        };
        return report;
      },
    );
  current = { controller, report, started, settled };
}

/** Cancels the run {@link start} started, with `reason` (the default `DOMException` without one). */
function cancel(reason?: unknown): void {
  current?.controller.abort(reason);
}

/** The reason the run {@link start} started was cancelled with. */
function reason(): unknown {
  return current?.controller.signal.reason;
}

/** Resolves once a computation of the run {@link start} started has started. */
function started(): Promise<void> {
  if (!current) throw new Error('no run started');
  return current.started;
}

/** How the run {@link start} started settled. */
function settled(): Promise<RunReport> {
  if (!current) throw new Error('no run started');
  return current.settled;
}

const cancelLab = { checkpoint, tasks, pool, PageMovedOn, start, started, cancel, reason, settled };

declare global {
  interface Window {
    cancelLab: typeof cancelLab;
  }
}

window.cancelLab = cancelLab;
document.body.dataset.ready = 'true';
