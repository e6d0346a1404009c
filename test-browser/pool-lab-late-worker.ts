/**
 * A pool lab worker that awaits something (as a WASM module loading) before it serves. Named
 * `self:...`, it passes its scope to `serve()` itself.
 * @module
 */
import { type Endpoint, serve } from 'checkpoint-tool/worker';

export * from './pool-lab-tasks.js';

await new Promise((resolve) => setTimeout(resolve, 200));
serve(self.name.startsWith('self:') ? (self as unknown as Endpoint) : undefined);
