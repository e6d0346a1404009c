/**
 * Draws the graph of choose(n, k) as the diamond of Pascal's triangle it covers, one focusable
 * node per instance, and repaints the nodes whose state changed in batches: once per animation
 * frame for a small graph, less often for a large one (see {@link GraphView.interval}).
 * @module
 */

/** What happened to an instance in the current run. */
export type NodeState = 'waiting' | 'running' | 'computed' | 'cached' | 'failed' | 'skipped';

/** One instance as drawn. */
export interface GraphNode {
  readonly label: string;
  readonly n: number;
  readonly k: number;
  state: NodeState;
  /** The worker that runs or ran it in this run. */
  worker?: string;
  /** Milliseconds from start to stored result. */
  duration?: number;
  /** Why it failed. */
  error?: string;
  /** Whether the user broke it: it throws when computed. */
  broken?: boolean;
}

const SVG = 'http://www.w3.org/2000/svg';
const DX = 24;
const DY = 21;
const R = 9;

const stateText: Record<NodeState, string> = {
  waiting: 'waiting',
  running: 'running',
  computed: 'computed now',
  cached: 'read from the cache',
  failed: 'failed',
  skipped: 'skipped',
};

/** Describes a node in words, for its accessible name, its tooltip and the info line. */
export function describeNode(node: GraphNode, workerNumber: (worker: string) => number): string {
  let text = `${node.label}: ${stateText[node.state]}`;
  if (node.worker !== undefined && (node.state === 'running' || node.state === 'computed' || node.state === 'failed')) {
    text += ` on ${node.worker} (#${workerNumber(node.worker)})`;
  }
  if (node.duration !== undefined && node.state !== 'running') text += ` in ${Math.round(node.duration)} ms`;
  if (node.state === 'failed' && node.error) text += `: ${node.error}`;
  if (node.broken) text += ' (broken: activate it to repair it)';
  return text;
}

/** The graph's SVG element and its nodes, by label. */
export class GraphView {
  readonly #svg: SVGSVGElement;
  readonly #elements = new Map<string, SVGGElement>();
  readonly #byLabel = new Map<string, GraphNode>();
  readonly #byPosition = new Map<string, GraphNode>();
  readonly #dirty = new Set<GraphNode>();
  readonly #workerNumber: (worker: string) => number;
  readonly #onActivate: (node: GraphNode) => void;
  readonly #onFocus: (node: GraphNode | undefined) => void;
  #nodes: GraphNode[] = [];
  #frame = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #flushed = 0;
  #focusable: GraphNode | undefined;

  constructor(
    svg: SVGSVGElement,
    options: {
      workerNumber: (worker: string) => number;
      onActivate: (node: GraphNode) => void;
      onFocus: (node: GraphNode | undefined) => void;
    },
  ) {
    this.#svg = svg;
    this.#workerNumber = options.workerNumber;
    this.#onActivate = options.onActivate;
    this.#onFocus = options.onFocus;
    svg.addEventListener('click', (event) => {
      const node = this.#nodeOf(event.target);
      if (node) this.#onActivate(node);
    });
    svg.addEventListener('keydown', (event) => this.#key(event));
    svg.addEventListener('focusin', (event) => this.#onFocus(this.#nodeOf(event.target)));
    svg.addEventListener('focusout', () => this.#onFocus(undefined));
    svg.addEventListener('pointerover', (event) => {
      const node = this.#nodeOf(event.target);
      if (node) this.#onFocus(node);
    });
  }

  /** The nodes drawn, dependencies first. */
  get nodes(): readonly GraphNode[] {
    return this.#nodes;
  }

  /**
   * The least time between two repaints, in milliseconds. A repaint costs about as much as the
   * whole SVG has nodes (Chromium paints an SVG as one piece): at 60 frames a second, a graph of
   * 2,600 instances kept the page's thread busier painting than running the graph. So a graph of
   * n nodes is repainted at most every n / 8 ms (never below a frame, at most 4 times a second).
   */
  get interval(): number {
    return Math.min(250, this.#nodes.length / 8);
  }

  /** Replaces the drawing with these instances, all waiting. */
  draw(nodes: GraphNode[]): void {
    this.#nodes = nodes;
    this.#elements.clear();
    this.#byLabel.clear();
    this.#byPosition.clear();
    this.#dirty.clear();
    for (const node of nodes) {
      this.#byPosition.set(`${node.n},${node.k}`, node);
      this.#byLabel.set(node.label, node);
    }
    if (nodes.length === 0) {
      this.#svg.replaceChildren();
      this.#svg.removeAttribute('viewBox');
      return;
    }
    const xs = nodes.map((node) => x(node));
    const ys = nodes.map((node) => node.n * DY);
    const pad = R + 4;
    const left = Math.min(...xs) - pad;
    const top = Math.min(...ys) - pad;
    const width = Math.max(...xs) - left + pad;
    const height = Math.max(...ys) - top + pad;
    this.#svg.setAttribute('viewBox', `${left} ${top} ${width} ${height}`);
    this.#svg.style.setProperty('--graph-width', `${width}px`);
    // Past a few hundred nodes the worker numbers are too small to read: the info line has them.
    this.#svg.classList.toggle('dense', nodes.length > 300);
    this.#svg.replaceChildren();

    const edges = document.createElementNS(SVG, 'path');
    edges.setAttribute('class', 'edges');
    edges.setAttribute('d', nodes.flatMap((node) => this.#edges(node)).join(''));
    this.#svg.append(edges);

    const group = document.createElementNS(SVG, 'g');
    for (const node of nodes) {
      const element = document.createElementNS(SVG, 'g');
      element.setAttribute('class', 'node');
      element.setAttribute('role', 'button');
      element.setAttribute('tabindex', '-1');
      element.dataset.label = node.label;
      // Coordinates rather than a transform per node: each transform is a paint chunk of its own,
      // which Chromium layerizes again on every repaint.
      const circle = document.createElementNS(SVG, 'circle');
      circle.setAttribute('cx', String(x(node)));
      circle.setAttribute('cy', String(node.n * DY));
      circle.setAttribute('r', String(R));
      const text = document.createElementNS(SVG, 'text');
      text.setAttribute('x', String(x(node)));
      text.setAttribute('y', String(node.n * DY));
      text.setAttribute('dy', '0.35em');
      text.setAttribute('aria-hidden', 'true');
      const title = document.createElementNS(SVG, 'title');
      element.append(circle, text, title);
      group.append(element);
      this.#elements.set(node.label, element);
      this.#paint(node);
    }
    this.#svg.append(group);
    const root = nodes.at(-1);
    if (root) this.#setFocusable(root);
  }

  /** The node of an instance, if drawn. */
  get(label: string): GraphNode | undefined {
    return this.#byLabel.get(label);
  }

  /** Marks a node for repainting at the next animation frame at least {@link interval} after the last. */
  changed(node: GraphNode): void {
    this.#dirty.add(node);
    if (this.#frame || this.#timer !== undefined) return;
    const wait = this.#flushed + this.interval - performance.now();
    const frame = () => {
      this.#timer = undefined;
      this.#frame = requestAnimationFrame(() => this.flush());
    };
    if (wait > 0) this.#timer = setTimeout(frame, wait);
    else frame();
  }

  /** Repaints every changed node now. */
  flush(): void {
    cancelAnimationFrame(this.#frame);
    clearTimeout(this.#timer);
    this.#frame = 0;
    this.#timer = undefined;
    this.#flushed = performance.now();
    for (const node of this.#dirty) this.#paint(node);
    this.#dirty.clear();
  }

  #paint(node: GraphNode): void {
    const element = this.#elements.get(node.label);
    if (!element) return;
    element.dataset.state = node.state;
    element.classList.toggle('broken', node.broken === true);
    if (node.worker === undefined) delete element.dataset.worker;
    else element.dataset.worker = node.worker;
    const shown = node.worker !== undefined && node.state !== 'cached' && node.state !== 'waiting';
    (element.children[1] as SVGTextElement).textContent = shown ? String(this.#workerNumber(node.worker!)) : '';
    const description = describeNode(node, this.#workerNumber);
    element.setAttribute(
      'aria-label',
      `${description}. Press Enter to ${node.broken ? 'repair' : 'clear'} it and rerun.`,
    );
    (element.children[2] as SVGTitleElement).textContent = description;
  }

  #edges(node: GraphNode): string[] {
    const from = `M${x(node)} ${node.n * DY}`;
    return [
      [node.n - 1, node.k - 1],
      [node.n - 1, node.k],
    ]
      .map(([n, k]) => this.#byPosition.get(`${n},${k}`))
      .filter((dependency) => dependency !== undefined && 0 < node.k && node.k < node.n)
      .map((dependency) => `${from}L${x(dependency!)} ${dependency!.n * DY}`);
  }

  #nodeOf(target: EventTarget | null): GraphNode | undefined {
    const element = (target as Element | null)?.closest?.('.node') as SVGGElement | null;
    const label = element?.dataset.label;
    return label === undefined ? undefined : this.get(label);
  }

  #setFocusable(node: GraphNode): void {
    if (this.#focusable) this.#elements.get(this.#focusable.label)?.setAttribute('tabindex', '-1');
    this.#focusable = node;
    this.#elements.get(node.label)?.setAttribute('tabindex', '0');
  }

  // Roving focus: one node is in the tab order; arrows move within a row (left, right) and to the
  // nearest node of the row above or below; Home goes to the answer.
  #key(event: KeyboardEvent): void {
    const current = this.#nodeOf(event.target);
    if (!current) return;
    let next: GraphNode | undefined;
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      this.#onActivate(current);
      return;
    }
    if (event.key === 'ArrowLeft') next = this.#byPosition.get(`${current.n},${current.k - 1}`);
    else if (event.key === 'ArrowRight') next = this.#byPosition.get(`${current.n},${current.k + 1}`);
    else if (event.key === 'ArrowUp') next = this.#nearest(current.n - 1, x(current));
    else if (event.key === 'ArrowDown') next = this.#nearest(current.n + 1, x(current));
    else if (event.key === 'Home') next = this.#nodes.at(-1);
    else return;
    event.preventDefault();
    if (!next) return;
    this.#setFocusable(next);
    (this.#elements.get(next.label) as SVGGElement).focus();
  }

  #nearest(row: number, at: number): GraphNode | undefined {
    let best: GraphNode | undefined;
    for (const node of this.#nodes) {
      if (node.n !== row) continue;
      const distance = Math.abs(x(node) - at) - (best ? Math.abs(x(best) - at) : Number.POSITIVE_INFINITY);
      // On a tie (a row above or below is offset by half a step), the leftmost wins.
      if (distance < 0 || (distance === 0 && best && node.k < best.k)) best = node;
    }
    return best;
  }
}

function x(node: { n: number; k: number }): number {
  return (node.k - node.n / 2) * DX;
}
