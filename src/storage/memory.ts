import { joinPieces, piecesLength } from './pieces.js';
import type { EntryMeta, Store } from './types.js';

/** Values up to this size are copied into a shared chunk rather than kept in a buffer of their own. */
const SMALL = 1024;
/** The size of a shared chunk. */
const CHUNK = 16 * 1024;

/** One stored entry: its metadata and where its value's bytes are. */
interface Stored {
  readonly meta: EntryMeta;
  /** A shared chunk, or the value's own buffer. */
  readonly bytes: Uint8Array;
  readonly offset: number;
  readonly length: number;
}

/**
 * A store that keeps entries in memory, for tests and as the fallback where no persistent storage
 * is available. Entries last as long as the store object. Values are copied when read, as a
 * persistent store would: a caller that changes a typed array it got back never changes the cache.
 *
 * Small values, the usual case in large graphs, are copied end to end into shared chunks of 16 KiB:
 * one buffer per small value would cost about 200 bytes of objects each, kept alive for as long as
 * the store and copied by every garbage collection until then. A chunk lives while any of its
 * values does, so a value overwritten or deleted leaves its bytes behind until its chunk's others
 * go too: at most one chunk per live value, and far less in practice.
 */
export function memoryStore(): Store {
  const folders = new Map<string, Map<string, Stored>>();
  let chunk = new Uint8Array(CHUNK);
  let used = 0;
  const folder = (name: string) => {
    let entries = folders.get(name);
    if (!entries) {
      entries = new Map();
      folders.set(name, entries);
    }
    return entries;
  };
  return {
    async readMeta(name, key): Promise<EntryMeta | undefined> {
      return copyMeta(folders.get(name)?.get(key)?.meta);
    },
    async readMetas(name, keys) {
      const entries = folders.get(name);
      return keys.map((key) => copyMeta(entries?.get(key)?.meta));
    },
    async readValue(name, key) {
      const stored = folders.get(name)?.get(key);
      if (!stored) return undefined;
      const { meta, bytes, offset, length } = stored;
      return { meta: copyMeta(meta) as EntryMeta, value: bytes.slice(offset, offset + length) };
    },
    write(name, key, { meta, value }) {
      // Done at once: no promise. The metadata is kept as given (the writer hands it over, and
      // readers get copies). A small value is copied into the shared chunk; a larger one in one
      // piece is the writer's own buffer and is kept, in several pieces it is joined into a copy:
      // pieces after the first can be views of the computed value's own memory, which its user may
      // change or move to a worker.
      const length = piecesLength(value);
      let stored: Stored;
      if (length > SMALL) {
        stored = { meta, bytes: joinPieces(value), offset: 0, length };
      } else {
        if (used + length > CHUNK) {
          chunk = new Uint8Array(CHUNK);
          used = 0;
        }
        stored = { meta, bytes: chunk, offset: used, length };
        for (const piece of value) {
          chunk.set(piece, used);
          used += piece.length;
        }
      }
      folder(name).set(key, stored);
    },
    async delete(name, key) {
      folders.get(name)?.delete(key);
    },
    async clear(name) {
      folders.delete(name);
    },
    async keys(name) {
      return [...(folders.get(name)?.keys() ?? [])];
    },
  };
}

function copyMeta(meta: EntryMeta | undefined): EntryMeta | undefined {
  return meta && { ...meta, inputs: [...meta.inputs] };
}
