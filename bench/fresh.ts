/**
 * Runs one measurement in a fresh Node.js process, for figures that must not see this process's
 * JIT, caches or heap: warm runs, and peak memory. The child inherits this process's flags
 * (`--import tsx`, and `--cpu-prof` when profiling).
 * @module
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Precedes the result's JSON on the child's standard output. */
export const marker = '@@bench-result ';

/**
 * Calls `exported(args)` from `bench/<module>` in a new process and resolves to what it returned
 * (JSON), with `processMs`, the child's whole lifetime as seen from here.
 */
export function inFreshProcess<T>(module: string, exported: string, args: unknown): Promise<T & { processMs: number }> {
  const start = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...process.execArgv,
      fileURLToPath(new URL('./child.ts', import.meta.url)),
      module,
      exported,
      JSON.stringify(args),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    output += chunk;
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      const processMs = performance.now() - start;
      const line = output.split('\n').find((text) => text.startsWith(marker));
      if (code !== 0 || !line) {
        reject(new Error(`bench/${module} ${exported} exited with ${code}:\n${output}`));
      } else {
        resolve({ ...(JSON.parse(line.slice(marker.length)) as T), processMs });
      }
    });
  });
}
