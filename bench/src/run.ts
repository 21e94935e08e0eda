/**
 * `npm run bench [-- name…]`: runs every scenario in `scenarios/` (or those named), each of which
 * times Refront against the raw library or peer underneath in the same run and prints the ratios.
 */
import { readdirSync } from 'node:fs';

const dir = new URL('./scenarios/', import.meta.url);
const scenarios = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !scenarios.includes(w));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.join(', ')}`);
  process.exit(2);
}
for (const name of scenarios) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n## ${name}`);
  const mod = (await import(new URL(`${name}.ts`, dir).href)) as { default: () => Promise<void> };
  await mod.default();
}
