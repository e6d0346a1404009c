import type { Instance } from './instance.js';

/** A registered task, as the registry and executors see it. */
export interface RegisteredTask {
  readonly id: string;
  /** Source of the factory and options, to tell a re-evaluated module from an edited declaration. */
  readonly fingerprint: string;
  /** The task's `version` option, `''` when not set: a job names the version it was planned under. */
  readonly version: string;
  /** The instance of a canonical argument key, as made by `canonicalKey`. */
  instance(key: string): Instance<unknown>;
  /**
   * Told when a later declaration takes this one's place (the same one evaluated again, or a
   * different one): the instances it made need no longer be kept for it.
   */
  superseded(): void;
}

/**
 * What a declaration learns from the registry after registering: whether a later declaration has
 * replaced it. Shared by the declarations of one definition evaluated again.
 */
export interface Registration {
  /** Why the declaration no longer runs, once a different one has taken its folder. */
  replaced?: string;
}

/** What holds a task folder in this thread: its latest declaration, and that declaration's registration. */
interface Holder {
  task: RegisteredTask;
  readonly registration: Registration;
  /**
   * Whether this declaration replaced a different one: which of the two a job from another thread
   * means is then unknown, since that thread may have loaded them in the other order.
   */
  readonly replacing: boolean;
}

/**
 * The tasks by their ids in lower case: ids that differ only in case name one folder on macOS and
 * Windows, so they are one place here too.
 */
const holders = new Map<string, Holder>();
/** How many declarations this thread has seen replaced. */
let replacements = 0;

/**
 * Registers a task under its id, and returns its registration. One declaration holds a folder at a
 * time: the same definition evaluated again (a module reloaded, a notebook cell run again) shares
 * the registration of the one before; a different one (an edited factory or options, a new
 * `version`, an id spelt in another case) replaces it, and the replaced declaration no longer runs,
 * so that two declarations never share a folder with different code. Two different tasks given one
 * name then fail where the earlier is used, with the reason.
 */
export function register(task: RegisteredTask): Registration {
  const folded = task.id.toLowerCase();
  const holder = holders.get(folded);
  holder?.task.superseded();
  if (holder?.task.id === task.id && holder.task.fingerprint === task.fingerprint) {
    holder.task = task;
    return holder.registration;
  }
  if (holder) {
    holder.registration.replaced = replacement(holder.task.id, task.id);
    replacements++;
  }
  const registration: Registration = {};
  holders.set(folded, { task, registration, replacing: holder !== undefined });
  return registration;
}

/** The message for a declaration replaced by a later one. */
function replacement(earlier: string, later: string): string {
  const how =
    earlier === later
      ? 'was declared again with a different factory or options, which replaced this declaration'
      : `was replaced by task \`${later}\`, declared later with an id that differs only in case (one folder on macOS and Windows)`;
  return `Task \`${earlier}\` ${how}: use the new declaration (run again the cell or module that used the old one); if these are two different tasks, give each a name or namespace of its own`;
}

/** The task registered under an id, or `undefined`. */
export function lookup(id: string): RegisteredTask | undefined {
  const task = holders.get(id.toLowerCase())?.task;
  return task?.id === id ? task : undefined;
}

/** Whether the task registered under an id replaced a different declaration of it (or of its id in another case). */
export function replacedAnother(id: string): boolean {
  return holders.get(id.toLowerCase())?.replacing === true;
}

/**
 * How many declarations this thread has seen replaced: while none has, no instance can require
 * one, and a graph build need not look.
 */
export function replacedCount(): number {
  return replacements;
}

/** How many task folders this thread has registered. */
export function registeredCount(): number {
  return holders.size;
}
