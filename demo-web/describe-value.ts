/**
 * Describes any value as a string that tells apart everything a faithful round trip must keep:
 * types, -0, NaN, undefined properties, typed array kinds and contents, Map and Set order.
 * @module
 */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null) return 'null';
  if (typeof value === 'number') return `number:${Object.is(value, -0) ? '-0' : String(value)}`;
  if (typeof value === 'bigint') return `bigint:${value}`;
  if (typeof value === 'string') return `string:${JSON.stringify(value)}`;
  if (typeof value !== 'object') return `${typeof value}:${String(value)}`;
  const kind = Object.prototype.toString.call(value).slice(8, -1);
  if (value instanceof Date) return `Date(${Number.isNaN(value.getTime()) ? 'invalid' : value.toISOString()})`;
  if (value instanceof RegExp) return `RegExp(/${value.source}/${value.flags})`;
  if (value instanceof Map) {
    return `Map{${[...value].map(([k, v]) => `${describeValue(k)} => ${describeValue(v)}`).join(', ')}}`;
  }
  if (value instanceof Set) return `Set{${[...value].map(describeValue).join(', ')}}`;
  if (value instanceof ArrayBuffer) return `ArrayBuffer[${new Uint8Array(value).join(',')}]`;
  if (value instanceof DataView) {
    return `DataView[${new Uint8Array(value.buffer, value.byteOffset, value.byteLength).join(',')}]`;
  }
  if (ArrayBuffer.isView(value)) {
    const items = Array.from(value as unknown as ArrayLike<number | bigint>, describeValue);
    return `${kind}[${items.join(', ')}]`;
  }
  if (Array.isArray(value)) return `[${value.map(describeValue).join(', ')}]`;
  const prototype = Object.getPrototypeOf(value);
  const name = prototype === Object.prototype ? '' : prototype === null ? 'null-prototype' : kind;
  const entries = Object.entries(value).map(([k, v]) => `${JSON.stringify(k)}: ${describeValue(v)}`);
  return `${name}{${entries.join(', ')}}`;
}
