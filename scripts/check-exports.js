// Checks that every target of package.json `exports` exists after the build.
import { existsSync, readFileSync } from 'node:fs';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const targets = [];
const walk = (node) => {
  if (typeof node === 'string') targets.push(node);
  else for (const value of Object.values(node)) walk(value);
};
walk(pkg.exports);
const missing = targets.filter((target) => !existsSync(new URL(`../${target}`, import.meta.url)));
if (missing.length > 0) {
  console.error(`package.json exports point to missing files:\n  ${missing.join('\n  ')}`);
  process.exit(1);
}
console.log(`exports: all ${targets.length} targets exist`);
