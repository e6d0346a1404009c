/**
 * The entry of a child process started by `inFreshProcess`: calls one exported function of a
 * bench module and prints its result after the marker.
 * @module
 */
import { marker } from './fresh.js';

const [module, exported, args] = process.argv.slice(2) as [string, string, string];
const functions = (await import(new URL(module, import.meta.url).href)) as Record<
  string,
  (args: unknown) => Promise<unknown>
>;
const fn = functions[exported];
if (typeof fn !== 'function') throw new Error(`bench/${module} exports no function ${exported}`);
const result = await fn(JSON.parse(args));
process.stdout.write(`${marker}${JSON.stringify(result)}\n`);
