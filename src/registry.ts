import { TaskDefinitionError } from './errors.js';
import type { Instance } from './instance.js';

/** A registered task, as the registry and executors see it. */
export interface RegisteredTask {
  readonly id: string;
  /** Source of the factory and options, to tell a re-evaluated module from a real duplicate. */
  readonly fingerprint: string;
  /** The instance of a canonical argument key, as made by `canonicalKey`. */
  instance(key: string): Instance<unknown>;
}

const tasks = new Map<string, RegisteredTask>();
/** Each id by its lower-case spelling: ids that differ only in case name one folder on macOS and Windows. */
const spellings = new Map<string, string>();

/**
 * Registers a task under its id. The same definition evaluated again (a module reloaded by hot
 * module replacement, say) replaces the old one; a different definition under a taken id is an
 * error, since both would share one cache folder; so is an id that differs from another only in case.
 */
export function register(task: RegisteredTask): void {
  const existing = tasks.get(task.id);
  if (existing && existing.fingerprint !== task.fingerprint) {
    throw new TaskDefinitionError(
      `Task \`${task.id}\` is defined twice, with a different factory or different options: give each task its own name or namespace (or, where a definition was edited in a running session, a notebook or hot reload, restart it)`,
    );
  }
  const folded = task.id.toLowerCase();
  const other = spellings.get(folded);
  if (other !== undefined && other !== task.id) {
    throw new TaskDefinitionError(
      `Task \`${task.id}\` differs from task \`${other}\` only in case: on a case-insensitive file system (macOS, Windows) both would use one cache folder, and read each other's results; rename one (or, where a task was renamed in a running session, a notebook or hot reload, restart it)`,
    );
  }
  spellings.set(folded, task.id);
  tasks.set(task.id, task);
}

/** The task registered under an id, or `undefined`. */
export function lookup(id: string): RegisteredTask | undefined {
  return tasks.get(id);
}

/** How many tasks this thread has registered. */
export function registeredCount(): number {
  return tasks.size;
}
