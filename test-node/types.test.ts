// Compile-time checks of the public types, run by `npm run typecheck`; the runtime test below
// only keeps the file in the suite. Each `@ts-expect-error` fails the typecheck if the error
// it expects disappears.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type Compute,
  type Instance,
  memoryStore,
  type ResultOf,
  type RunEvent,
  requires,
  type Task,
  task,
} from 'checkpoint-tool';

type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
const expectType = <T extends true>(_proof?: T) => {};

const num = task('types-num', (x: number) => () => x * 2);
const str = task('types-str', (s: string, n: number) => async () => s.repeat(n));
const big = task('types-big', () => () => 10n);

expectType<Equal<typeof num, Task<[x: number], number>>>();
expectType<Equal<typeof str, Task<[s: string, n: number], string>>>();
expectType<Equal<ResultOf<ReturnType<typeof str>>, string>>();
expectType<Equal<ReturnType<typeof big>, Instance<bigint>>>();

// Positional, array and object forms infer each value's type from its task.
requires(
  num(1),
  str('a', 2),
  big(),
)((a, b, c) => {
  expectType<Equal<typeof a, number>>();
  expectType<Equal<typeof b, string>>();
  expectType<Equal<typeof c, bigint>>();
});
requires([num(1), str('a', 2)])((values) => {
  expectType<Equal<typeof values, [number, string]>>();
});
requires(Array.from({ length: 3 }, (_, i) => num(i)))((values) => {
  expectType<Equal<typeof values, number[]>>();
});
requires({ n: num(1), s: str('a', 2) })((values) => {
  expectType<Equal<typeof values, { n: number; s: string }>>();
});

// The computation's return type, awaited, is the task's result type.
const combined = task('types-combined', (x: number) => requires(num(x), str('x', x))(async (a, b) => `${b}${a}`));
expectType<Equal<typeof combined, Task<[x: number], string>>>();

// A recursive task annotates its factory's return type.
const fib = task(
  'types-fib',
  (n: number): Compute<bigint> => (n < 2 ? () => BigInt(n) : requires(fib(n - 1), fib(n - 2))((a, b) => a + b)),
);
expectType<Equal<ReturnType<typeof fib>, Instance<bigint>>>();

// Wrong argument types and misuse are compile errors.
// @ts-expect-error a string is not a number
num('1');
// @ts-expect-error the values of number tasks are numbers
requires(num(1))((a: string) => a);
// @ts-expect-error unknown task option (which also throws when run)
assert.throws(() => task('types-bad-option', () => () => 1, { retries: 3 }), /unknown option `retries`/);

// Internal members are stripped from the declarations a user's editor shows.
// @ts-expect-error numberIn is internal
void num(1).numberIn;
// @ts-expect-error computation is internal
void num(1).computation;

// A parameter with a default value is annotated (README): unannotated, TypeScript types it `unknown`.
const scaled = task(
  'types-default',
  (x: number, by: number = 2) =>
    () =>
      x * by,
);
expectType<Equal<typeof scaled, Task<[x: number, by?: number], number>>>();
task('types-default-unknown', (x: number, by = 2) => () => {
  // @ts-expect-error unannotated, `by` is unknown
  return x * by;
});

// Events narrow on their type.
const onEvent = (event: RunEvent) => {
  if (event.type === 'started') expectType<Equal<typeof event.worker, string>>();
  if (event.type === 'finished') expectType<Equal<typeof event.duration, number>>();
};

test('typed tasks run as typed', async () => {
  const value: string = await combined(3).run({ store: memoryStore(), onEvent });
  assert.equal(value, 'xxx6');
  assert.equal(await fib(30).run({ store: memoryStore() }), 832040n);
});
