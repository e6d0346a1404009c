/**
 * superjson transformers for what superjson alone stores lossily or refuses: objects with
 * `__proto__`, `constructor` or `prototype` keys, null-prototype objects, invalid Dates, and
 * errors (superjson keeps only `name` and `message` and rebuilds a plain `Error`).
 * @module
 */
import type SuperJSON from 'superjson';
import { platformErrors } from '../errors.js';
import { objectFromEntries } from './references.js';

// Transformer outputs are walked by superjson like any value; they are typed as JSON only to
// satisfy its signature.
type Walked = { [key: string]: string };

/** The error classes every platform has; an error of another class must be registered. */
const errorClasses: Record<string, new (message?: string) => Error> = {
  ...platformErrors,
  AggregateError: AggregateError as unknown as new (message?: string) => Error,
};

/** Whether `value` is an error of a built-in class (not a subclass), which is stored as such. */
export function isBuiltinError(value: object): value is Error {
  const type = value.constructor?.name;
  return value instanceof Error && type !== undefined && errorClasses[type] === value.constructor;
}

// An error's own fields sit beside its enumerable properties, so that reference paths through it
// (`cause`, `errors.0`, a `code` property) are the same on the error and on its stored form.
const header = '\u0000error';
// `cause`: 0 when the error has none, 1 when it is not enumerable (as `new Error(m, { cause })`
// makes it), 2 when it is.
type ErrorHeader = [type: string, name: string, message: string, stack: string | null, cause: 0 | 1 | 2];

function define(object: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(object, key, { value, enumerable, writable: true, configurable: true });
}

/** Registers the transformers on `serializer`. */
export function registerTransformers(serializer: SuperJSON): void {
  // superjson refuses objects with these keys (its guard against prototype pollution) and forgets
  // a null prototype: such objects are stored as lists of entries, and rebuilt with
  // defineProperty, which never touches a prototype.
  const guardedKeys = ['__proto__', 'constructor', 'prototype'];
  for (const [name, prototype] of [
    ['Entries', Object.prototype],
    ['NullPrototype', null],
  ] as const) {
    serializer.registerCustom<Record<string, unknown>, string[][]>(
      {
        isApplicable: (value): value is Record<string, unknown> =>
          typeof value === 'object' &&
          value !== null &&
          Object.getPrototypeOf(value) === prototype &&
          (prototype === null || guardedKeys.some((key) => Object.hasOwn(value, key))),
        serialize: (object) => Object.entries(object) as string[][],
        deserialize: (entries) =>
          objectFromEntries(entries as [string, unknown][], prototype) as Record<string, unknown>,
      },
      name,
    );
  }

  // superjson stores an invalid Date as null.
  serializer.registerCustom<Date, null>(
    {
      isApplicable: (value): value is Date => value instanceof Date && Number.isNaN(value.getTime()),
      serialize: () => null,
      deserialize: () => new Date(Number.NaN),
    },
    'InvalidDate',
  );

  serializer.registerCustom<Error, Walked>(
    {
      isApplicable: (value): value is Error => typeof value === 'object' && value !== null && isBuiltinError(value),
      serialize: (error) => {
        const stored: Record<string, unknown> = { ...error };
        const cause = Object.getOwnPropertyDescriptor(error, 'cause');
        if (cause) stored.cause = error.cause;
        if (error instanceof AggregateError) stored.errors = error.errors;
        const type = error.constructor.name;
        const fields: ErrorHeader = [
          type,
          error.name,
          error.message,
          error.stack ?? null,
          cause ? (cause.enumerable ? 2 : 1) : 0,
        ];
        stored[header] = fields;
        return stored as Walked;
      },
      deserialize: (stored) => {
        const { [header]: fields, ...properties } = stored as unknown as Record<string, unknown>;
        const [type, name, message, stack, cause] = fields as ErrorHeader;
        let error: Error;
        if (type === 'AggregateError') {
          error = new AggregateError(properties.errors as unknown[], message);
          delete properties.errors;
        } else {
          error = new (errorClasses[type] ?? Error)(message);
        }
        if (error.name !== name) define(error, 'name', name, false);
        if (stack !== null) define(error, 'stack', stack, false);
        else delete error.stack;
        if (cause) define(error, 'cause', properties.cause, cause === 2);
        delete properties.cause;
        for (const [key, value] of Object.entries(properties)) define(error, key, value, true);
        return error;
      },
    },
    'Error',
  );
}
