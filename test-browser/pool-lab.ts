/**
 * The page the Web Worker pool tests open: the lab's tasks and a pool of the lab's workers,
 * exposed as `window.poolLab`.
 * @module
 */
import * as checkpoint from 'checkpoint-tool/browser';
import * as tasks from './pool-lab-tasks.js';

const pool = checkpoint.webPool({
  // Not the literal form: the test serves the worker's bundle itself.
  create: (name) => new Worker(new URL('pool-lab-worker.js', location.href), { type: 'module', name }),
  size: 1,
});

/** Workers that serve only after an `await`. */
const latePool = checkpoint.webPool({
  create: (name) => new Worker(new URL('pool-lab-late-worker.js', location.href), { type: 'module', name }),
  size: 1,
});

/** Workers that serve only after an `await`, passing their scope to `serve()`. */
const lateSelfPool = checkpoint.webPool({
  create: (name) =>
    new Worker(new URL('pool-lab-late-worker.js', location.href), { type: 'module', name: `self:${name}` }),
  size: 1,
});

const poolLab = { checkpoint, tasks, pool, latePool, lateSelfPool };

declare global {
  interface Window {
    poolLab: typeof poolLab;
  }
}

window.poolLab = poolLab;
document.body.dataset.ready = 'true';
