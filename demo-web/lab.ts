/**
 * The storage lab: a page for the browser tests that stores sample values through the public API
 * in IndexedDB and reads them back. Exposes `window.lab`.
 * @module
 */
import { idbStore, type RunEvent, task } from 'checkpoint-tool/browser';
import { describeValue } from './describe-value.js';

/** One value of each kind the codec must store faithfully. */
const samples: Record<string, () => unknown> = {
  date: () => [new Date(Date.UTC(2024, 1, 29, 12, 34, 56, 789)), new Date(Number.NaN)],
  map: () =>
    new Map<unknown, unknown>([
      ['a', 1],
      [2, { b: [3] }],
      [null, 'null key'],
    ]),
  set: () => new Set<unknown>([1, 'two', 3n, undefined]),
  bigint: () => [0n, -123456789012345678901234567890n, 2n ** 64n, 118264581564861424n],
  regexp: () => [/a+b*c?/giu, /^\d{2,}$/m, /x/y],
  undefined: () => ({ present: undefined, list: [undefined, 1, undefined] }),
  'negative-zero': () => [-0, { z: -0 }, 0],
  'special-numbers': () => [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.MAX_VALUE, 5e-324],
  'typed-arrays': () => ({
    i8: Int8Array.of(-128, 0, 127),
    u8: Uint8Array.of(0, 1, 255),
    u8c: Uint8ClampedArray.of(0, 128, 255),
    i16: Int16Array.of(-32768, 32767),
    u16: Uint16Array.of(0, 65535),
    i32: Int32Array.of(-(2 ** 31), 2 ** 31 - 1),
    u32: Uint32Array.of(0, 2 ** 32 - 1),
    f32: Float32Array.of(1.5, -0, Number.NaN, Number.POSITIVE_INFINITY),
    f64: Float64Array.of(Math.PI, -0, Number.NaN, Number.MIN_VALUE),
    bi64: BigInt64Array.of(-(2n ** 63n), 0n, 2n ** 63n - 1n),
    bu64: BigUint64Array.of(0n, 2n ** 64n - 1n),
    empty: new Float64Array(0),
  }),
  'data-view': () => new DataView(Uint8Array.of(1, 2, 3, 4, 5, 6).buffer, 1, 4),
  'array-buffer': () => Uint8Array.of(9, 8, 7, 0, 255).buffer,
  'odd-offsets': () => [Uint8Array.of(1, 2, 3), Float64Array.of(0.5), Uint8Array.of(4), BigInt64Array.of(-1n)],
  nested: () => ({
    when: new Date(0),
    index: new Map<string, unknown>([['set', new Set([new Float64Array([1.5, -0]), 'x'])]]),
    big: [1n, { deeper: [2n, new BigUint64Array([3n])] }],
    pattern: /nested/s,
    list: [undefined, -0, Number.NaN, { bytes: new Uint16Array([65535]), buffer: new ArrayBuffer(3) }],
    view: new DataView(new ArrayBuffer(8)),
  }),
};

const store = idbStore({ dbName: 'checkpoint-lab' });

/** Returns the sample of that name: each run computes it, the next ones read it from IndexedDB. */
const sample = task('sample', (name: string) => () => {
  const make = samples[name];
  if (!make) throw new RangeError(`No sample named ${name}`);
  return make();
});

// A large, repetitive value, stored once raw and once compressed.
const repetitive = () => ({
  rows: Array.from({ length: 2000 }, (_, i) => ({ id: i % 10, label: 'the same label again' })),
  zeros: new Float64Array(20_000),
});
const raw = task('raw', () => repetitive);
const packed = task('packed', () => repetitive, { compress: true });
const packedHard = task('packed-hard', () => repetitive, { compress: 9 });

/** Runs an instance and tells whether it was computed or read from the cache. */
async function runAndTell<T>(instance: { run(options: object): Promise<T> }) {
  const events: RunEvent['type'][] = [];
  const value = await instance.run({ store, onEvent: (event: RunEvent) => events.push(event.type) });
  return { value, computed: events.includes('finished'), cached: events.includes('cached') };
}

const lab = {
  names: Object.keys(samples),

  /** Runs `sample(name)` and describes the value it gave and the value made afresh. */
  async roundTrip(name: string) {
    const { value, computed, cached } = await runAndTell(sample(name));
    const make = samples[name] as () => unknown;
    return { expected: describeValue(make()), actual: describeValue(value), computed, cached };
  },

  /** Runs the compressed and uncompressed twins; tells how each entry is stored. */
  async compression() {
    const report = async (made: typeof raw) => {
      const { value, computed, cached } = await runAndTell(made());
      const meta = await store.readMeta(made.id, made().key);
      return { encoding: meta?.encoding, size: meta?.size, computed, cached, value: describeValue(value) };
    };
    return {
      expected: describeValue(repetitive()),
      raw: await report(raw),
      packed: await report(packed),
      packedHard: await report(packedHard),
    };
  },
};

declare global {
  interface Window {
    lab: typeof lab;
  }
}
window.lab = lab;

const list = document.getElementById('samples') as HTMLUListElement;
for (const name of lab.names) {
  const item = document.createElement('li');
  item.textContent = name;
  list.append(item);
}
document.body.dataset.ready = 'true';
