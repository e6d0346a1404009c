/**
 * Whether a task's folder is its own. On a case-insensitive file system (macOS, Windows), tasks
 * `Foo` and `foo` share one folder, and each would read the other's results as its own. In one
 * process, an id that differs from an earlier one only in case replaces it (the registry); this
 * catches two processes, or two versions of a program, each declaring one of them, and a process
 * whose `Foo` replaced its `foo` while `foo`'s results remain.
 * @module
 */
import { realpath } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { CheckpointError } from '../errors.js';
import { isMissing } from './fs-calls.js';

/**
 * The task folders of one fs store found to be their own, each checked once (one `realpath`). A
 * folder whose actual name, as the file system resolves it, differs from its task's id only in
 * case, beside it in the cache root, is another task's. A folder linked elsewhere is its task's
 * own, whatever the name of what it links to.
 */
export class FolderOwners {
  readonly #root: string;
  /** The folders found to be their own, or being checked. */
  readonly #checks = new Map<string, Promise<void>>();

  /** @param root - the cache root, which holds every task's folder. */
  constructor(root: string) {
    this.#root = root;
  }

  /**
   * Resolves once `dir`, the folder of task `id`, is found to be its own or missing; rejects with
   * a {@link CheckpointError} naming both tasks if it is another's. Only a folder found to be its
   * own is not checked again: a missing one may be made by the other task meanwhile, and the
   * other's may be removed.
   */
  check(id: string, dir: string): Promise<void> {
    let checking = this.#checks.get(dir);
    if (!checking) {
      checking = this.#check(id, dir);
      this.#checks.set(dir, checking);
    }
    return checking;
  }

  /** Checks `dir` again on next use: it was removed, and may be made again by another task. */
  forget(dir: string): void {
    this.#checks.delete(dir);
  }

  async #check(id: string, dir: string): Promise<void> {
    let owner: string | undefined;
    try {
      owner = await this.#ownerOf(id, dir);
    } finally {
      if (owner !== id) this.#checks.delete(dir);
    }
    if (owner === undefined || owner === id) return;
    throw new CheckpointError(
      `The cache folder of task \`${id}\`, ${dir}, is that of task \`${owner}\` (ids that differ only in case name one folder on a case-insensitive file system, macOS or Windows), whose results it would read as its own. Rename one of the two tasks, or remove the results of \`${owner}\` (its clear(), or delete the folder); nothing of \`${owner}\` was read or changed`,
    );
  }

  /** The id whose folder `dir` really is (`id` unless it clashes), or `undefined` when missing. */
  async #ownerOf(id: string, dir: string): Promise<string | undefined> {
    let real: string;
    try {
      real = await realpath(dir);
    } catch (error) {
      if (isMissing(error)) return undefined;
      throw error;
    }
    const name = basename(real);
    if (name === id || name.toLowerCase() !== id.toLowerCase()) return id;
    // Resolved only for a folder that may clash, which is rare.
    return dirname(real) === (await realpath(this.#root)) ? name : id;
  }
}
