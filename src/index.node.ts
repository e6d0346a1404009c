/// <reference types="node" preserve="true" />
/**
 * The Node.js entry: the shared API, with results cached on the filesystem by default
 * (`$CP_CACHE_DIR`, else `./.cache`).
 * @module
 */
import { setDefaultStore } from './platform.js';
import { fsStore } from './storage/fs.js';

setDefaultStore(() => ({ store: fsStore(), status: async () => ({ kind: 'fs', persistent: true }) }));

export * from './core.js';
export { type NodePoolOptions, nodePool } from './executors/node-pool.js';
export { type CorruptEntry, type FsStoreOptions, fsStore } from './storage/fs.js';
