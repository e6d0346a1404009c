/**
 * Checking the options objects of `task()`, `run()` and `clear()` as they come at run time (from
 * JavaScript, or misspelt past a cast), and showing a bad value in a message.
 * @module
 */
import { TaskDefinitionError } from './errors.js';

/**
 * The options object, once it is known to be an object holding only `known` names; `undefined`
 * is no options. Anything else is a {@link TaskDefinitionError} whose message starts with `call`.
 * `lone` names the option a string given instead of the options most likely meant (a store's
 * directory, say), for the message to show where it goes.
 */
export function checkOptionNames(
  call: string,
  options: unknown,
  known: readonly string[],
  lone?: string,
): Record<string, unknown> {
  if (options === undefined) return {};
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    const where =
      lone !== undefined && typeof options === 'string'
        ? `: it goes in \`${lone}\`, as in ${call.slice(0, -2)}({ ${lone}: ${shown(options)} })`
        : '';
    throw new TaskDefinitionError(`${call}: expected the options to be an object, got ${shown(options)}${where}`);
  }
  const given = options as Record<string, unknown>;
  const unknown = Object.keys(given).filter((name) => !known.includes(name));
  if (unknown.length > 0) {
    throw new TaskDefinitionError(
      `${call}: unknown option${unknown.length > 1 ? 's' : ''} ${unknown.map((name) => `\`${name}\``).join(', ')}; the options are ${known.join(', ')}`,
    );
  }
  return given;
}

/**
 * Checks option `name` of `call`: `undefined` (not given) or a value `ok` accepts passes; anything
 * else throws, a {@link TaskDefinitionError} unless `Kind` says otherwise, saying what was expected
 * and what came, as in ``fsStore(): expected `dir` to be a string (a path), got 5``.
 */
export function checkOption(
  call: string,
  name: string,
  value: unknown,
  what: string,
  ok: (value: unknown) => boolean,
  Kind: new (message: string) => Error = TaskDefinitionError,
): void {
  if (value !== undefined && !ok(value))
    throw new Kind(`${call}: expected \`${name}\` to be ${what}, got ${shown(value)}`);
}

/** Whether a value is a string. */
export const isString = (value: unknown): boolean => typeof value === 'string';
/** Whether a value is a function. */
export const isFunction = (value: unknown): boolean => typeof value === 'function';
/** Whether a value is a boolean. */
export const isBoolean = (value: unknown): boolean => typeof value === 'boolean';

/** A value as an error message shows it: its kind, never its whole text (symbols included). */
export function shown(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'function') return `the function ${value.name || '(anonymous)'} (not called?)`;
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value);
  if (typeof value !== 'object') return String(value);
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    return `an instance of ${(value as object).constructor?.name || 'a class'}`;
  }
  const keys = Object.keys(value);
  if (keys.length === 0) return 'an object with no properties';
  return `an object with ${keys.slice(0, 8).join(', ')}${keys.length > 8 ? ', ...' : ''}`;
}
