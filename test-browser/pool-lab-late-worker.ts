/**
 * A pool lab worker that awaits something (as a WASM module loading) before it serves.
 * @module
 */
import { serve } from 'checkpoint-tool/worker';

export * from './pool-lab-tasks.js';

await new Promise((resolve) => setTimeout(resolve, 200));
serve();
