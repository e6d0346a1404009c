/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`): self time per function, largest first.
 *
 * ```sh
 * node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/index.ts scheduler
 * node --import tsx bench/cpu-profile.ts /tmp/prof/*.cpuprofile [--top 25] [--by-file] [--all]
 * ```
 * Profiles that are idle 90% of the time (the threads of tsx's loader, say) are skipped unless
 * `--all` is given. With `--by-file`, self time is summed per file instead of per function.
 * @module
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** Self time (ms) per function of one profile, keyed `name (file:line)`, or per file. */
export function selfTimes(profile: Profile, byFile = false): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const times = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const label = byFile ? fileOf(node) : describe(node);
    times.set(label, (times.get(label) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return times;
}

function describe(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  return url ? `${name} (${fileOf(node)}:${lineNumber + 1})` : name;
}

function fileOf({ callFrame: { functionName, url } }: ProfileNode): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const file = url.startsWith('file:') ? fileURLToPath(url) : url;
  return file.includes('/node_modules/') ? file.slice(file.lastIndexOf('/node_modules/') + 14) : relative('.', file);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
  const byFileAt = args.indexOf('--by-file');
  if (byFileAt >= 0) args.splice(byFileAt, 1);
  const all = args.includes('--all');
  if (all) args.splice(args.indexOf('--all'), 1);
  for (const file of args) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const times = [...selfTimes(profile, byFileAt >= 0)].sort((a, b) => b[1] - a[1]);
    const total = (profile.endTime - profile.startTime) / 1000;
    const idle = times.find(([label]) => label === '(idle)')?.[1] ?? 0;
    if (total - idle < 0.1 * total && !all) continue;
    console.log(`\n${file}: ${total.toFixed(0)} ms sampled, ${(total - idle).toFixed(0)} ms not idle`);
    for (const [label, ms] of times.slice(0, top)) {
      console.log(`${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${label}`);
    }
  }
}
