/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`): self time per function, largest first.
 *
 * ```sh
 * node --cpu-prof --cpu-prof-dir=/tmp/prof --import tsx bench/index.ts scheduler
 * node --import tsx bench/cpu-profile.ts /tmp/prof/*.cpuprofile [--top 25]
 * ```
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

/** Self time (ms) per function of one profile, keyed `name (file:line)`. */
export function selfTimes(profile: Profile): Map<string, number> {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const times = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const node = byId.get(id);
    if (!node) return;
    const label = describe(node);
    times.set(label, (times.get(label) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
  });
  return times;
}

function describe({ callFrame: { functionName, url, lineNumber } }: ProfileNode): string {
  const name = functionName || '(anonymous)';
  if (!url) return name;
  let file = url.startsWith('file:') ? fileURLToPath(url) : url;
  file = file.includes('/node_modules/') ? file.slice(file.lastIndexOf('/node_modules/') + 14) : relative('.', file);
  return `${name} (${file}:${lineNumber + 1})`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const args = process.argv.slice(2);
  const topAt = args.indexOf('--top');
  const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 25;
  for (const file of args) {
    const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
    const times = [...selfTimes(profile)].sort((a, b) => b[1] - a[1]);
    const total = (profile.endTime - profile.startTime) / 1000;
    console.log(`\n${file}: ${total.toFixed(0)} ms sampled`);
    for (const [label, ms] of times.slice(0, top)) {
      console.log(`${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)}%  ${label}`);
    }
  }
}
