/**
 * The demo's settings in the URL's hash (`#n=16&k=8&delay=60&workers=4&broken=5,2;7,3`), so that
 * a reload or a shared link opens the same computation.
 * @module
 */

/** The form fields kept in the hash, by parameter name. */
export type Fields = Record<string, { value: string }>;

/** Fills the fields and the set of broken instances from the hash. */
export function readHash(fields: Fields, broken: Set<string>): void {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [name, field] of Object.entries(fields)) {
    const value = params.get(name);
    if (value !== null && value !== '') field.value = value;
  }
  for (const key of params.get('broken')?.split(';') ?? []) {
    if (/^\d+,\d+$/.test(key)) broken.add(key);
  }
}

/** Writes the fields and the broken instances to the hash, without a new history entry. */
export function writeHash(fields: Fields, broken: ReadonlySet<string>): void {
  const params = new URLSearchParams(Object.entries(fields).map(([name, field]) => [name, field.value]));
  if (broken.size > 0) params.set('broken', [...broken].join(';'));
  history.replaceState(null, '', `#${params.toString().replaceAll('%2C', ',').replaceAll('%3B', ';')}`);
}
