/**
 * checkpoint-tool: persistent, parallel, memoized task graphs of functions of JSON arguments.
 * This entry holds everything shared by all platforms; its default store keeps results in memory.
 * The `node` and `browser` entries re-export it with a persistent default store.
 * @module
 */
import { setDefaultStore } from './platform.js';
import { memoryStore } from './storage/memory.js';

setDefaultStore(() => ({
  store: memoryStore(),
  status: async () => ({
    kind: 'memory',
    persistent: false,
    reason: 'no persistent store is known on this platform (neither the node nor the browser entry was chosen)',
  }),
}));

export * from './core.js';
