/**
 * Restores the shared and cyclic references of a value that superjson has deserialized without
 * them, from its `referentialEqualities` annotations. Values are serialized with superjson's
 * `dedupe`: a shared object is written once, at the first path the walk meets it (its
 * representative), and as `null` at its other paths, so a value costs space linear in its
 * distinct objects. Every prefix of an annotated path is then the representative of its object,
 * so each path resolves in the value as loaded, in any order.
 *
 * Sets and Maps are loaded empty and filled once references are restored: filled earlier, the
 * `null`s standing for two shared members would have merged into one. Entries written without
 * `dedupe` (by earlier versions) hold full copies, Sets and Maps built by superjson, and paths
 * sorted shortest first; they load as superjson 2.2 would restore them but for one thing: a Set
 * member or Map key is replaced where it stands, where superjson moved it to the end, which
 * shifted the positions later annotations point at (superjson pull request #357).
 *
 * A path comes from the stored bytes: it may only name own properties, never `__proto__`,
 * `constructor` or `prototype`, and only positions that exist, so that loading a crafted entry
 * never reaches outside the value.
 * @module
 */
import { SerializationError } from '../errors.js';

// Objects rebuilt from a list of entries (see transformers.ts): a path runs through them as through
// a Map, by row, then 0 for the key or 1 for the value.
const rebuilt = new WeakSet<object>();

/**
 * Builds an object from its entries with defineProperty, so that a `__proto__` key stays a key,
 * and remembers it, so that reference paths through its entries resolve.
 */
export function objectFromEntries(entries: readonly (readonly [string, unknown])[], prototype: object | null): object {
  if (!Array.isArray(entries)) throw unreadable('an object stored as entries has none');
  const object = Object.create(prototype) as object;
  for (const [key, value] of entries) define(object, key, value);
  rebuilt.add(object);
  return object;
}

function define(object: object, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

// Sets and Maps being loaded, by the stored members or [key, value] rows they are filled from.
const unfilled = new Map<Set<unknown> | Map<unknown, unknown>, unknown[]>();
let loading = false;

/**
 * The members of a Set, keys of a Map or of a rebuilt object, listed once per load: a path steps
 * into one by position, and walking it for every path made a Map of 80,000 shared records take
 * 5.7 s to load. Dropped when the container's members change.
 */
const listed = new Map<object, readonly unknown[]>();

function membersOf(container: Set<unknown> | Map<unknown, unknown> | object): readonly unknown[] {
  let members = listed.get(container);
  if (!members) {
    members =
      container instanceof Set
        ? [...container]
        : container instanceof Map
          ? [...container.keys()]
          : Object.keys(container);
    listed.set(container, members);
  }
  return members;
}

/**
 * An empty Set (or Map) to be filled with `items` (members, or `[key, value]` rows) once the
 * references of the value being loaded are restored; filled at once outside a load.
 */
export function collectionFromItems(kind: 'Set' | 'Map', items: unknown): Set<unknown> | Map<unknown, unknown> {
  if (!Array.isArray(items)) throw unreadable(`a stored ${kind} has no members`);
  const collection = kind === 'Set' ? new Set<unknown>() : new Map<unknown, unknown>();
  if (loading) unfilled.set(collection, items);
  else fill(collection, items);
  return collection;
}

function fill(collection: Set<unknown> | Map<unknown, unknown>, items: unknown[]): void {
  if (collection instanceof Set) {
    for (const item of items) collection.add(item);
  } else {
    for (const row of items) {
      if (!Array.isArray(row) || row.length !== 2) throw unreadable('a stored Map has a row that is no [key, value]');
      collection.set(row[0], row[1]);
    }
  }
}

/** superjson's `meta.referentialEqualities`: identical paths by representative path. */
export type ReferenceAnnotations = Record<string, string[]> | [string[]] | [string[], Record<string, string[]>];

/**
 * Loads a value: `decode` gives it as superjson deserializes it without its references, then
 * the references are restored from `annotations` (if any), in superjson's order, and the Sets and
 * Maps filled. `version` is superjson's `meta.v` (0 for paths without escapes).
 */
export function loadValue(
  decode: () => unknown,
  annotations: ReferenceAnnotations | undefined,
  version: number,
): unknown {
  loading = true;
  try {
    let value = decode();
    if (annotations) value = restoreReferences(value, annotations, version < 1);
    for (const [collection, items] of unfilled) fill(collection, items);
    return value;
  } finally {
    loading = false;
    unfilled.clear();
    listed.clear();
  }
}

function restoreReferences(root: unknown, annotations: ReferenceAnnotations, legacy: boolean): unknown {
  let value = root;
  const apply = (representative: string, identical: unknown) => {
    const object = getDeep(value, parsePath(representative, legacy));
    for (const path of list(identical)) value = setDeep(value, parsePath(path, legacy), object);
  };
  if (Array.isArray(annotations)) {
    const [toRoot, others] = annotations;
    for (const path of list(toRoot)) value = setDeep(value, parsePath(path, legacy), value);
    if (others) for (const [representative, identical] of Object.entries(others)) apply(representative, identical);
  } else {
    for (const [representative, identical] of Object.entries(annotations)) apply(representative, identical);
  }
  return value;
}

function list(paths: unknown): string[] {
  if (!Array.isArray(paths) || !paths.every((path) => typeof path === 'string')) {
    throw unreadable('reference annotations are not lists of paths');
  }
  return paths;
}

const forbidden = new Set(['__proto__', 'constructor', 'prototype']);

/** Splits a superjson path at unescaped dots (`\.` is a dot in a key, `\\` a backslash). */
function parsePath(text: string, legacy: boolean): string[] {
  const segments: string[] = [];
  let segment = '';
  for (let i = 0; i < text.length; i++) {
    const char = text[i] as string;
    const next = text[i + 1];
    if (char === '\\' && (next === '.' || (!legacy && next === '\\'))) {
      segment += next;
      i++;
    } else if (char === '.') {
      segments.push(segment);
      segment = '';
    } else {
      segment += char;
    }
  }
  segments.push(segment);
  const bad = segments.find((name) => forbidden.has(name));
  if (bad !== undefined) throw unreadable(`a reference path goes through \`${bad}\`: ${JSON.stringify(text)}`);
  return segments;
}

function unreadable(problem: string): SerializationError {
  return new SerializationError(problem);
}

/** The position a path segment names among `size` members or rows. */
function position(segment: string | undefined, size: number): number {
  const n = Number(segment);
  if (segment === undefined || !/^\d+$/.test(segment) || n >= size) {
    throw unreadable(`a reference path points past the end of a Set, Map or object (${segment})`);
  }
  return n;
}

/** Which of a row a Map step takes: 0 for its key, 1 for its value. */
function side(segment: string | undefined): 0 | 1 {
  if (segment === '0' || segment === '1') return segment === '0' ? 0 : 1;
  throw unreadable(`a reference path into a Map names neither key nor value (${segment})`);
}

/** The own property `key` of `value`, the only kind of step a path takes through other objects. */
function own(value: unknown, key: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || !Object.hasOwn(value, key)) {
    throw unreadable(`a reference path names no property of the value (${key})`);
  }
  return value as Record<string, unknown>;
}

/** One step down along `path` from segment `i`: the child, and how many segments the step took. */
function step(value: unknown, path: readonly string[], i: number): [unknown, number] {
  const items = unfilled.get(value as Set<unknown>);
  if (items) {
    const item = items[position(path[i], items.length)];
    if (value instanceof Set) return [item, 1];
    return [(item as unknown[])[side(path[i + 1])], 2];
  }
  if (value instanceof Set) return [membersOf(value)[position(path[i], value.size)], 1];
  if (value instanceof Map) {
    // A Map step takes two segments: the row, then 0 for its key or 1 for its value.
    const key = membersOf(value)[position(path[i], value.size)];
    return [side(path[i + 1]) === 0 ? key : value.get(key), 2];
  }
  if (rebuilt.has(value as object)) {
    const keys = membersOf(value as object);
    const key = keys[position(path[i], keys.length)] as string;
    return [side(path[i + 1]) === 0 ? key : (value as Record<string, unknown>)[key], 2];
  }
  const key = path[i] as string;
  return [own(value, key)[key], 1];
}

function getDeep(root: unknown, path: readonly string[]): unknown {
  let value = root;
  for (let i = 0; i < path.length; ) {
    const [child, used] = step(value, path, i);
    value = child;
    i += used;
  }
  return value;
}

/**
 * Puts `object` at a path, keeping the order of any Set or Map it is a member or key of. In an
 * entry written without `dedupe`, such a replacement rebuilds that Set or Map: linear in its
 * size, and needed only for a shared object that is a Set member or Map key.
 */
function setDeep(root: unknown, path: readonly string[], object: unknown): unknown {
  if (path.length === 0) return object;
  let parent = root;
  let i = 0;
  const last = () => (parent instanceof Map || rebuilt.has(parent as object) ? 2 : 1);
  while (path.length - i > last()) {
    const [child, used] = step(parent, path, i);
    parent = child;
    i += used;
  }
  if (path.length - i !== last()) throw unreadable('a reference path ends inside a Map row');
  const items = unfilled.get(parent as Set<unknown>);
  if (items) {
    const at = position(path[i], items.length);
    if (parent instanceof Set) items[at] = object;
    else (items[at] as unknown[])[side(path[i + 1])] = object;
  } else if (parent instanceof Map) {
    const row = position(path[i], parent.size);
    const key = membersOf(parent)[row];
    if (side(path[i + 1]) === 1) parent.set(key, object);
    else if (key !== object) {
      const entries = [...parent];
      entries[row] = [object, parent.get(key)];
      parent.clear();
      for (const [k, v] of entries) parent.set(k, v);
      listed.delete(parent);
    }
  } else if (rebuilt.has(parent as object)) {
    // Keys are strings, never shared: only a value can be replaced.
    const keys = membersOf(parent as object);
    const key = keys[position(path[i], keys.length)] as string;
    if (side(path[i + 1]) === 1) define(parent as object, key, object);
  } else if (parent instanceof Set) {
    const members = [...parent];
    members[position(path[i], members.length)] = object;
    parent.clear();
    for (const member of members) parent.add(member);
    listed.delete(parent);
  } else {
    const key = path[i] as string;
    own(parent, key)[key] = object;
  }
  return root;
}
