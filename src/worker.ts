/**
 * What a worker imports to serve the tasks of its module to a pool. Filled in by the worker pool.
 * @module
 */
export { runJob } from './executors/job.js';
