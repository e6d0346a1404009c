/**
 * The owner records of the fs store's lock files: what a lock file names (its process, host,
 * thread and holding object), and how a waiter judges from it whether the lock may be taken over.
 * @module
 */
import * as fs from 'node:fs';
import { lstat, readlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import { threadId } from 'node:worker_threads';
import { closeFile, openFile, readAt } from './fs-calls.js';
import { refreshed } from './fs-lock-heartbeat.js';

const host = hostname();

/**
 * What a lock file of this `LockFiles` object holds: the process and thread (each thread's runs
 * hold their own locks), and the object itself, so that two objects in one thread (two stores on
 * one cache) never take each other's lock for their own.
 */
export function ownerOf(): Buffer {
  return Buffer.from(
    JSON.stringify({ pid: process.pid, host, thread: threadId, holder: Math.random().toString(36).slice(2) }),
  );
}

/**
 * Whether a lock may be taken over: its holder is on this host and dead, or has not refreshed it
 * for `staleMs` (a holder on another host, a reused pid, or an owner not yet written). A lock
 * that this thread holds is never stale to it, however long its event loop was blocked.
 */
export async function isStale(path: string, staleMs: number): Promise<boolean> {
  let text: string;
  let modified: number;
  try {
    const info = await lstat(path);
    modified = info.mtimeMs;
    // Earlier versions made locks as symbolic links whose target names the owner.
    text = info.isSymbolicLink() ? await readlink(path) : await readStart(path);
  } catch {
    return false; // released meanwhile: try again to take it
  }
  let holder: { pid?: unknown; host?: unknown; thread?: unknown } | undefined;
  try {
    // A large entry's value is written after the room kept for its header, and the header last
    // (see writeEntryTo): until then the owner record is followed by zeros, and still readable.
    const end = text.indexOf('\0');
    holder = JSON.parse(end >= 0 ? text.slice(0, end) : text) as { pid?: unknown; host?: unknown; thread?: unknown };
  } catch {
    // Created but not yet written, or its header being written: its age decides.
  }
  // Held by this thread: never stale to it. Naming this thread but not held under this spelling of
  // its path (being released, reached through a symbolic link, left by an earlier process with this
  // pid), it is judged as any other lock.
  if (holder?.host === host && holder.pid === process.pid && holder.thread === threadId && refreshed.has(path)) {
    return false;
  }
  if (holder?.host === host && typeof holder.pid === 'number' && !isAlive(holder.pid)) return true;
  return Date.now() - modified > staleMs;
}

/** The start of a lock file, where its owner is: never the whole entry being written into it. */
async function readStart(path: string): Promise<string> {
  const fd = await openFile(path, fs.constants.O_RDONLY);
  try {
    const bytes = Buffer.alloc(1024);
    return bytes.toString('utf8', 0, await readAt(fd, bytes));
  } finally {
    await closeFile(fd);
  }
}

/** Whether the open lock file names `owner` as its owner. */
export async function isOwn(fd: number, owner: Buffer): Promise<boolean> {
  const bytes = Buffer.alloc(owner.length + 1);
  return (await readAt(fd, bytes)) === owner.length && owner.equals(bytes.subarray(0, owner.length));
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
