/**
 * The pool lab's worker: the lab's tasks, served.
 * @module
 */
import { serve } from 'checkpoint-tool/worker';

// Re-exported, not imported for its effects: this package's `sideEffects` would let the bundler
// drop a bare `import './pool-lab-tasks.js'`.
export * from './pool-lab-tasks.js';

serve();
