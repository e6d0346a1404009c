/**
 * The demo page: computes choose(n, k) with checkpoint-tool in a pool of Web Workers, caching in
 * IndexedDB, and shows every instance's state live.
 * @module
 */
import { AbortError, defaultStoreStatus, type RunEvent } from 'checkpoint-tool/browser';
import { describeNode, type GraphNode, GraphView } from './graph-view.js';
import { choose, type DemoSettings } from './tasks.js';
import { accepts, readHash, writeHash } from './url-state.js';
import { createPool, type DemoPool } from './workers.js';

const byId = <T extends Element = HTMLElement>(id: string) => document.getElementById(id) as unknown as T;
const form = byId<HTMLFormElement>('controls');
const nInput = byId<HTMLInputElement>('n');
const kInput = byId<HTMLInputElement>('k');
const delayInput = byId<HTMLInputElement>('delay');
const delayOutput = byId<HTMLOutputElement>('delay-value');
const workersInput = byId<HTMLSelectElement>('workers');
const result = byId('result');
const summary = byId('summary');
const errorBox = byId('error');
const info = byId('node-info');
const workerList = byId('worker-list');
const breakButton = byId<HTMLButtonElement>('break-mode');
const brokenList = byId('broken-list');
const counters = {
  total: byId('count-total'),
  computed: byId('count-computed'),
  cached: byId('count-cached'),
  failed: byId('count-failed'),
  time: byId('run-time'),
};

/** Workers by name, numbered in the order they first ran something. */
const workers = new Map<string, { number: number; running: string | undefined; ran: number }>();
const workerNumber = (name: string) => workers.get(name)?.number ?? 0;
const hint = info.textContent ?? '';
/** The node described in the info line, kept up to date as its state changes. */
let infoNode: GraphNode | undefined;
const view = new GraphView(byId<SVGSVGElement>('graph'), {
  workerNumber,
  onActivate: (node) => activate(node),
  onFocus: (node) => {
    infoNode = node;
    info.textContent = node ? describeNode(node, workerNumber) : hint;
  },
});

let pool: DemoPool | undefined;
/** The instances the user broke, as `'n,k'`. */
const broken = new Set<string>();
const settings = (): DemoSettings => ({ type: 'demo-settings', delay: Number(delayInput.value), broken: [...broken] });

/** Clicking an instance clears it and reruns; in break mode it also breaks it; a broken one is repaired. */
function activate(node: GraphNode): void {
  const key = `${node.n},${node.k}`;
  if (broken.has(key)) broken.delete(key);
  else if (breakButton.getAttribute('aria-pressed') === 'true') broken.add(key);
  showBroken();
  request(() => choose(node.n, node.k).clear());
}

function showBroken(): void {
  pool?.apply(settings());
  writeHash(fields, broken);
  brokenList.textContent =
    broken.size === 0 ? '' : `Broken: ${[...broken].map((key) => `choose(${key.replace(',', ', ')})`).join(', ')}`;
}

function executor() {
  const size = Number(workersInput.value);
  if (pool?.size !== size) {
    pool?.close();
    workers.clear();
    pool = createPool(size, settings());
  }
  return pool.executor;
}

// Requests are chained: an action (clearing) always happens, in order; only the latest request
// runs, and a new request cancels the run in progress (its running computations stop in their
// delay: see tasks.ts).
let chain = Promise.resolve();
let latest = 0;
let controller: AbortController | undefined;

function request(action?: () => Promise<void>): Promise<void> {
  const ticket = ++latest;
  controller?.abort();
  chain = chain.then(async () => {
    await action?.();
    if (ticket === latest) await runOnce();
  });
  return chain;
}

let runs = 0;
let started = 0;
let ticking = 0;
let repainted = 0;

/**
 * The counters, from each instance's last state: an instance whose cached value turns out to be
 * unreadable is reported `cached`, then computed again (`started`, `finished`), and counts once,
 * as computed.
 */
function count(): { total: number; computed: number; cached: number; failed: number } {
  const total = { total: view.nodes.length, computed: 0, cached: 0, failed: 0 };
  for (const node of view.nodes) {
    if (node.state === 'computed' || node.state === 'cached' || node.state === 'failed') total[node.state]++;
  }
  return total;
}

async function runOnce(): Promise<void> {
  const n = Number(nInput.value);
  const k = Number(kInput.value);
  const root = choose(n, k);
  controller = new AbortController();
  const signal = controller.signal;
  const planned: GraphNode[] = [];
  let shown = false;
  const show = () => {
    if (shown) return;
    shown = true;
    const same = view.nodes.length === planned.length && view.nodes.at(-1)?.label === root.label;
    if (same) {
      for (const node of view.nodes) {
        const isBroken = broken.has(`${node.n},${node.k}`);
        Object.assign(node, {
          state: 'waiting',
          worker: undefined,
          duration: undefined,
          error: undefined,
          broken: isBroken,
        });
        view.changed(node);
      }
    } else {
      view.draw(planned);
      infoNode = undefined;
      info.textContent = hint;
    }
  };
  const onEvent = (event: RunEvent) => {
    if (event.type === 'planned') {
      const [i, j] = event.instance.args as [number, number];
      planned.push({ label: event.instance.label, n: i, k: j, state: 'waiting', broken: broken.has(`${i},${j}`) });
      return;
    }
    show();
    const node = view.get(event.instance.label);
    if (!node) return;
    if (event.type === 'cached') {
      node.state = 'cached';
    } else if (event.type === 'started') {
      node.state = 'running';
      node.worker = event.worker;
      const worker = workers.get(event.worker) ?? { number: workers.size + 1, running: undefined, ran: 0 };
      workers.set(event.worker, worker);
      worker.running = node.label;
    } else {
      node.state = event.type === 'finished' ? 'computed' : event.type;
      if (event.type !== 'skipped') node.duration = event.duration;
      if (event.type === 'failed') {
        const cause = event.error.cause;
        node.error = cause instanceof Error ? `${cause.name}: ${cause.message}` : event.error.message;
      }
      const worker = node.worker === undefined ? undefined : workers.get(node.worker);
      if (worker && event.type !== 'skipped') {
        worker.ran++;
        if (worker.running === node.label) worker.running = undefined;
      }
    }
    view.changed(node);
    tick();
  };

  document.body.dataset.state = 'running';
  errorBox.hidden = true;
  started = performance.now();
  result.textContent = `Computing choose(${n}, ${k})…`;
  delete result.dataset.value;
  try {
    // keepGoing: after a failure, everything that does not depend on it is still computed.
    const value = await root.run({ executor: executor(), onEvent, signal, keepGoing: true });
    // Long answers may wrap, but only after a digit group's comma.
    const groups = value.toLocaleString('en-US').split(',');
    result.replaceChildren(
      `choose(${n}, ${k}) = `,
      ...groups.flatMap((group, i) => (i === 0 ? [group] : [',', document.createElement('wbr'), group])),
    );
    result.dataset.value = value.toString();
  } catch (error) {
    if (error instanceof AbortError) return;
    result.textContent = `choose(${n}, ${k}) could not be computed`;
    errorBox.textContent = error instanceof Error ? error.message : String(error);
    errorBox.hidden = false;
  } finally {
    if (!signal.aborted) {
      show();
      const time = (performance.now() - started) / 1000;
      render(time);
      view.flush();
      const { total, computed, cached, failed } = count();
      summary.textContent = `${result.textContent}. ${total} instance${total === 1 ? '' : 's'}: ${computed} computed, ${cached} from the cache${failed ? `, ${failed} failed` : ''}, in ${time.toFixed(2)} s.`;
      document.body.dataset.state = 'idle';
      document.body.dataset.runs = String(++runs);
    }
  }
}

// The counters, the time and the workers are redrawn at the graph's pace: every frame for a small
// graph, less often for a large one.
function tick(): void {
  if (ticking) return;
  ticking = requestAnimationFrame(() => {
    ticking = 0;
    // A frame that comes after the run ended must not overwrite its final figures.
    if (document.body.dataset.state !== 'running') return;
    const now = performance.now();
    if (now - repainted >= view.interval) {
      repainted = now;
      render((now - started) / 1000);
    }
    tick();
  });
}

function render(seconds: number): void {
  const shown = count();
  for (const key of ['total', 'computed', 'cached', 'failed'] as const) counters[key].textContent = String(shown[key]);
  counters.time.textContent = `${seconds.toFixed(2)} s`;
  if (infoNode) info.textContent = describeNode(infoNode, workerNumber);
  workerList.replaceChildren(
    ...[...workers].map(([name, worker]) => {
      const item = document.createElement('li');
      item.dataset.worker = name;
      item.innerHTML =
        '<span class="badge" aria-hidden="true"></span> <span class="name"></span> <span class="doing"></span>';
      (item.children[0] as HTMLElement).textContent = String(worker.number);
      (item.children[1] as HTMLElement).textContent = name;
      (item.children[2] as HTMLElement).textContent = worker.running
        ? `running ${worker.running}`
        : `idle, ran ${worker.ran} task${worker.ran === 1 ? '' : 's'}`;
      return item;
    }),
  );
  if (workers.size === 0) workerList.innerHTML = '<li class="none">No worker has run a task yet.</li>';
}

const fields = { n: nInput, k: kInput, delay: delayInput, workers: workersInput };

form.addEventListener('submit', (event) => {
  event.preventDefault();
  // The same check as for a value from the URL's hash.
  const refused = Object.values(fields).find((field) => !accepts(field, field.value));
  if (refused) return void refused.reportValidity();
  byId('hash-notice').hidden = true;
  writeHash(fields, broken);
  request();
});
delayInput.addEventListener('input', () => {
  delayOutput.value = `${delayInput.value} ms`;
  pool?.apply(settings());
  writeHash(fields, broken);
});
workersInput.addEventListener('change', () => writeHash(fields, broken));
byId('clear-all').addEventListener('click', () => {
  broken.clear();
  showBroken();
  request(() => choose.clear());
});
breakButton.addEventListener('click', () => {
  const pressed = breakButton.getAttribute('aria-pressed') !== 'true';
  breakButton.setAttribute('aria-pressed', String(pressed));
});

// The library falls back to memory (with a console warning) where IndexedDB is missing or fails to
// open; the page asks it where results go, and says why they do not last.
void defaultStoreStatus().then((status) => {
  if (status.persistent) return;
  const notice = byId('no-idb');
  notice.textContent = `Results are cached in memory, for this page only: ${status.reason}.`;
  notice.hidden = false;
  byId('cache-place').textContent = 'cached in memory, for this page only';
});
if (import.meta.env.PROD && 'serviceWorker' in navigator) {
  navigator.serviceWorker.register('./sw.js').catch((error) => console.warn('Offline mode unavailable:', error));
}
const refused = readHash(fields, broken);
if (refused.length > 0) {
  const notice = byId('hash-notice');
  notice.textContent = `Settings from the link that the form would refuse were replaced by the defaults: ${refused.join('; ')}.`;
  notice.hidden = false;
}
delayOutput.value = `${delayInput.value} ms`;
showBroken();
request();
