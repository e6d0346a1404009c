/**
 * The platform-neutral public API, re-exported by every entry point.
 * @module
 */
export { serializer } from './codec/serialize.js';
export {
  AbortError,
  CheckpointError,
  CycleError,
  InvalidArgumentError,
  RunFailedError,
  SerializationError,
  TaskDefinitionError,
  TaskFailedError,
} from './errors.js';
export type { RunEvent, RunEventType } from './events.js';
export { inProcess } from './executors/in-process.js';
export type { PoolExecutor, PoolOptions } from './executors/pool.js';
export type { Executor, Job, JobContext } from './executors/types.js';
export { Instance, type ResultOf } from './instance.js';
export type { Json } from './json.js';
export { type DefaultStoreStatus, defaultStoreStatus } from './platform.js';
export { Computation, type Requirement, requires, type Shape } from './requires.js';
export type { RunOptions } from './run.js';
export { currentSignal } from './signal.js';
export { memoryStore } from './storage/memory.js';
export type { Entry, EntryMeta, Store, StoredEntry } from './storage/types.js';
export { type Compute, type Task, type TaskOptions, task } from './task.js';
