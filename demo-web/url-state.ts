/**
 * The demo's settings in the URL's hash (`#n=16&k=8&delay=60&workers=4&broken=5,2;7,3`), so that
 * a reload or a shared link opens the same computation.
 * @module
 */

/** A form field kept in the hash. */
export type Field = HTMLInputElement | HTMLSelectElement;

/** The form fields kept in the hash, by parameter name. */
export type Fields = Record<string, Field>;

/**
 * Whether a field holds a value the form accepts: the field's own constraints (required, min, max,
 * step, one of the listed options), checked by the browser. Submitting the form checks the same
 * constraints; a value from the hash must pass them too, and must not be one the field silently
 * alters when it is set (`abc` in a number field becomes empty, 9999 in a range becomes its max,
 * an unlisted option selects nothing).
 */
export function accepts(field: Field, value: string): boolean {
  field.value = value;
  return field.value === value && field.checkValidity();
}

/** Sets a field back to the value the page was written with. */
function reset(field: Field): void {
  if (field instanceof HTMLSelectElement) {
    for (const option of field.options) option.selected = option.defaultSelected;
  } else {
    field.value = field.defaultValue;
  }
}

/**
 * Fills the fields and the set of broken instances from the hash. A value the form would refuse
 * leaves its field at its default; the refused values are returned, described, for the page to
 * show.
 */
export function readHash(fields: Fields, broken: Set<string>): string[] {
  const params = new URLSearchParams(location.hash.slice(1));
  const refused: string[] = [];
  for (const [name, field] of Object.entries(fields)) {
    const value = params.get(name);
    if (value === null || value === '') continue;
    if (accepts(field, value)) continue;
    const reason = field.value === value ? field.validationMessage : '';
    reset(field);
    refused.push(`${name}=${value}${reason ? ` (${reason})` : ''} → ${name}=${field.value}`);
  }
  for (const key of params.get('broken')?.split(';') ?? []) {
    if (/^\d+,\d+$/.test(key)) broken.add(key);
  }
  return refused;
}

/** Writes the fields and the broken instances to the hash, without a new history entry. */
export function writeHash(fields: Fields, broken: ReadonlySet<string>): void {
  const params = new URLSearchParams(Object.entries(fields).map(([name, field]) => [name, field.value]));
  if (broken.size > 0) params.set('broken', [...broken].join(';'));
  history.replaceState(null, '', `#${params.toString().replaceAll('%2C', ',').replaceAll('%3B', ';')}`);
}
