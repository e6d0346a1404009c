/**
 * Restores the shared and cyclic references of a value that superjson has deserialized without
 * them, from its `referentialEqualities` annotations, exactly as superjson 2.2 does but for one
 * thing: a Set member or Map key is replaced where it stands. superjson deletes and re-adds it,
 * moving it to the end, which shifts the positions that later annotations point at: a Map or Set
 * holding two shared objects came back with one entry lost and another twice (superjson pull
 * request #357).
 * @module
 */

// Objects rebuilt from a list of entries (see transformers.ts): a path runs through them as through
// a Map, by row, then 0 for the key or 1 for the value.
const rebuilt = new WeakSet<object>();

/**
 * Builds an object from its entries with defineProperty, so that a `__proto__` key stays a key,
 * and remembers it, so that reference paths through its entries resolve.
 */
export function objectFromEntries(entries: readonly (readonly [string, unknown])[], prototype: object | null): object {
  const object = Object.create(prototype) as object;
  for (const [key, value] of entries) define(object, key, value);
  rebuilt.add(object);
  return object;
}

function define(object: object, key: string, value: unknown): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

/** superjson's `meta.referentialEqualities`: identical paths by representative path. */
export type ReferenceAnnotations = Record<string, string[]> | [string[]] | [string[], Record<string, string[]>];

/**
 * Makes every path of each group refer to the object at its representative path, in
 * superjson's order. `version` is superjson's `meta.v` (0 for paths without escapes).
 */
export function restoreReferences(root: unknown, annotations: ReferenceAnnotations, version: number): unknown {
  const legacy = version < 1;
  let value = root;
  const apply = (representative: string, identical: string[]) => {
    const object = getDeep(value, parsePath(representative, legacy));
    for (const path of identical) value = setDeep(value, parsePath(path, legacy), object);
  };
  if (Array.isArray(annotations)) {
    const [toRoot, others] = annotations;
    for (const path of toRoot) value = setDeep(value, parsePath(path, legacy), value);
    if (others) for (const [representative, identical] of Object.entries(others)) apply(representative, identical);
  } else {
    for (const [representative, identical] of Object.entries(annotations)) apply(representative, identical);
  }
  return value;
}

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
  return segments;
}

function nth<T>(items: Iterable<T>, n: number): T {
  let i = 0;
  for (const item of items) if (i++ === n) return item;
  throw new Error(`reference annotation points past the end of a Map or Set (${n})`);
}

/** One step down along `path` from segment `i`: the child, and how many segments the step took. */
function step(value: unknown, path: readonly string[], i: number): [unknown, number] {
  if (value instanceof Set) return [nth(value, Number(path[i])), 1];
  if (value instanceof Map) {
    // A Map step takes two segments: the row, then 0 for its key or 1 for its value.
    const key = nth(value.keys(), Number(path[i]));
    return [path[i + 1] === '0' ? key : value.get(key), 2];
  }
  if (rebuilt.has(value as object)) {
    const key = nth(Object.keys(value as object), Number(path[i]));
    return [path[i + 1] === '0' ? key : (value as Record<string, unknown>)[key], 2];
  }
  return [(value as Record<string, unknown>)[path[i] as string], 1];
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
 * Puts `object` at a path, keeping the order of any Set or Map it is a member or key of. Such a
 * replacement rebuilds that Set or Map: linear in its size, and needed only for a shared object
 * that is a Set member or Map key and also has a shorter path elsewhere.
 */
function setDeep(root: unknown, path: readonly string[], object: unknown): unknown {
  if (path.length === 0) return object;
  let parent = root;
  let i = 0;
  while (path.length - i > (parent instanceof Map || rebuilt.has(parent as object) ? 2 : 1)) {
    const [child, used] = step(parent, path, i);
    parent = child;
    i += used;
  }
  if (parent instanceof Map) {
    const row = Number(path[i]);
    const key = nth(parent.keys(), row);
    if (path[i + 1] !== '0') parent.set(key, object);
    else if (key !== object) {
      const entries = [...parent];
      entries[row] = [object, parent.get(key)];
      parent.clear();
      for (const [k, v] of entries) parent.set(k, v);
    }
  } else if (rebuilt.has(parent as object)) {
    // Keys are strings, never shared: only a value can be replaced.
    if (path[i + 1] !== '0') define(parent as object, nth(Object.keys(parent as object), Number(path[i])), object);
  } else if (parent instanceof Set) {
    const members = [...parent];
    members[Number(path[i])] = object;
    parent.clear();
    for (const member of members) parent.add(member);
  } else {
    (parent as Record<string, unknown>)[path[i] as string] = object;
  }
  return root;
}
