/**
 * superjson transformers for what superjson alone stores lossily or refuses: objects with
 * `__proto__`, `constructor` or `prototype` keys, null-prototype objects, invalid Dates, errors
 * (superjson keeps only `name` and `message` and rebuilds a plain `Error`; an instance of a
 * registered Error subclass lost its message and stack), and Sets and Maps (filled only once
 * their shared members are restored, see references.ts).
 * @module
 */
import type SuperJSON from 'superjson';
import { CheckpointError, platformErrors, SerializationError } from '../errors.js';
import { shown } from '../options.js';
import { collectionFromItems, objectFromEntries } from './references.js';

// Transformer outputs are walked by superjson like any value; they are typed as JSON only to
// satisfy its signature.
type Walked = { [key: string]: string };

type ErrorClass = new (message?: string) => Error;

/** The error classes every platform has; an error of another class must be registered. */
const errorClasses: Record<string, ErrorClass> = Object.assign(Object.create(null), {
  ...platformErrors,
  AggregateError: AggregateError as unknown as ErrorClass,
});

// Error subclasses given to `serializer.registerClass`, by identifier and the other way round.
// They are stored by the error transformer below, not by superjson's class rule.
const registeredErrors = new Map<string, ErrorClass>();
const errorIdentifiers = new Map<unknown, string>();

/**
 * Whether `value` is an error stored as such: of a built-in class (not a subclass), or of an
 * Error subclass registered with `serializer.registerClass`.
 */
export function isStoredError(value: object): value is Error {
  if (!(value instanceof Error)) return false;
  const type = value.constructor?.name;
  return (type !== undefined && errorClasses[type] === value.constructor) || errorIdentifiers.has(value.constructor);
}

/** Whether `value` is an instance of an Error subclass registered with `serializer.registerClass`. */
export function isRegisteredError(value: unknown): value is Error {
  return value instanceof Error && errorIdentifiers.has(value.constructor);
}

// An error's own fields sit beside its enumerable properties, so that reference paths through it
// (`cause`, `errors.0`, a `code` property) are the same on the error and on its stored form.
const header = '\u0000error';
// `cause`: 0 when the error has none, 1 when it is not enumerable (as `new Error(m, { cause })`
// makes it), 2 when it is. `registered`: 1 when `type` is the identifier of a registered class
// (absent in entries written before such classes were stored here).
type ErrorHeader = [
  type: string,
  name: string,
  message: string,
  stack: string | null,
  cause: 0 | 1 | 2,
  registered?: 1,
];

function define(object: object, key: string, value: unknown, enumerable: boolean): void {
  Object.defineProperty(object, key, { value, enumerable, writable: true, configurable: true });
}

// Sets with object members and Maps with object keys, as findUnstorable finds them: only these
// are filled once references are restored (a Set of strings costs no longer annotation).
const holdingObjects = new WeakSet<Set<unknown> | Map<unknown, unknown>>();

/**
 * Marks a Set with object members, or a Map with object keys: one whose members or keys may be
 * shared objects, written as `null` where met again.
 */
export function holdsObjects(collection: Set<unknown> | Map<unknown, unknown>): void {
  holdingObjects.add(collection);
}

/**
 * superjson lets a second class (or symbol) take an identifier another holds: the values stored
 * as the first then come back as the second, without a word. One of the same name may take it: a
 * class or symbol made again (a notebook cell run twice, a module reloaded) replaces its earlier
 * self, whose stored values come back as the new one.
 */
function taken(call: string, identifier: string, holder: string, newcomer: string, kind: string): CheckpointError {
  return new CheckpointError(
    `serializer.${call}: the identifier \`${identifier}\` is taken by ${holder}, whose stored values would come back as ${newcomer}: give each ${kind} an identifier of its own`,
  );
}

/** Registers the transformers on `serializer`. */
export function registerTransformers(serializer: SuperJSON): void {
  // superjson's class rule comes before any custom transformer and keeps only enumerable fields:
  // an Error subclass is registered here instead, for the error transformer to store.
  const registerClass = serializer.registerClass.bind(serializer);
  serializer.registerClass = (type, options) => {
    if (typeof type !== 'function') {
      throw new CheckpointError(`serializer.registerClass(): expected a class, got ${shown(type)}`);
    }
    const identifier = (typeof options === 'object' ? options.identifier : options) || type.name;
    const isError = type.prototype instanceof Error;
    const holder = isError ? registeredErrors.get(identifier) : serializer.classRegistry.getValue(identifier);
    if (holder !== undefined && holder !== type && holder.name !== type.name) {
      throw taken(`registerClass(${type.name})`, identifier, `the class ${holder.name}`, type.name, 'class');
    }
    if (!isError) return registerClass(type, options);
    if (errorIdentifiers.has(type)) return;
    registeredErrors.set(identifier, type as unknown as ErrorClass);
    errorIdentifiers.set(type, identifier);
  };

  const registerSymbol = serializer.registerSymbol.bind(serializer);
  serializer.registerSymbol = (symbol, given) => {
    if (typeof symbol !== 'symbol') {
      throw new CheckpointError(`serializer.registerSymbol(): expected a symbol, got ${shown(symbol)}`);
    }
    const identifier = given || (symbol.description ?? '');
    const holder = serializer.symbolRegistry.getValue(identifier);
    if (holder !== undefined && holder !== symbol && holder.description !== symbol.description) {
      throw taken(`registerSymbol(${String(symbol)})`, identifier, String(holder), String(symbol), 'symbol');
    }
    registerSymbol(symbol, given);
  };

  for (const kind of ['Set', 'Map'] as const) {
    const type = kind === 'Set' ? Set : Map;
    serializer.registerCustom<Set<unknown> | Map<unknown, unknown>, Walked>(
      {
        isApplicable: (value): value is Set<unknown> | Map<unknown, unknown> =>
          value instanceof type && holdingObjects.has(value),
        serialize: (collection) => [...collection] as unknown as Walked,
        deserialize: (items) => collectionFromItems(kind, items),
      },
      kind,
    );
  }

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
      isApplicable: (value): value is Error => value instanceof Error && isStoredError(value),
      serialize: (error) => {
        const stored: Record<string, unknown> = { ...error };
        const cause = Object.getOwnPropertyDescriptor(error, 'cause');
        if (cause) stored.cause = error.cause;
        if (error instanceof AggregateError) stored.errors = error.errors;
        const identifier = errorIdentifiers.get(error.constructor);
        const fields: ErrorHeader = [
          identifier ?? error.constructor.name,
          error.name,
          error.message,
          error.stack ?? null,
          cause ? (cause.enumerable ? 2 : 1) : 0,
        ];
        if (identifier !== undefined) fields.push(1);
        stored[header] = fields;
        return stored as Walked;
      },
      deserialize: (stored) => {
        const { [header]: fields, ...properties } = stored as unknown as Record<string, unknown>;
        const [type, name, message, stack, cause, registered] = fields as ErrorHeader;
        let error: Error;
        if (registered) {
          error = restoreRegistered(type, message, stack);
          if (error instanceof AggregateError) define(error, 'errors', properties.errors, false);
          delete properties.errors;
        } else if (type === 'AggregateError') {
          // Defined afterwards: an errors array shared elsewhere in the value is still null here,
          // until references are restored.
          error = new AggregateError([], message);
          define(error, 'errors', properties.errors, false);
          delete properties.errors;
        } else {
          error = new (errorClasses[type] ?? Error)(message);
        }
        // A `name` field (a class field, say) is among the properties, where it stands.
        if (error.name !== name && !Object.hasOwn(properties, 'name')) define(error, 'name', name, false);
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

/**
 * An instance of a registered Error subclass, made as superjson makes registered classes: from its
 * prototype, without running its constructor (its fields are restored after).
 */
function restoreRegistered(identifier: string, message: string, stack: string | null): Error {
  const type = registeredErrors.get(identifier);
  if (!type) {
    throw new SerializationError(
      `stored value holds an error of class ${JSON.stringify(identifier)}, which is not registered: register it with serializer.registerClass`,
    );
  }
  const error = Object.create(type.prototype) as Error;
  // In the order the Error constructor defines them, as an error made by its constructor has them.
  if (stack !== null) define(error, 'stack', stack, false);
  if (message !== error.message) define(error, 'message', message, false);
  return error;
}
