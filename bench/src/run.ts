/**
 * `npm run bench [-- name…]`: runs every scenario (or those named), each of which times Refront
 * against the raw library or peer underneath in the same run and prints the ratios.
 */
const scenarios: Record<string, () => Promise<{ default: () => Promise<void> }>> = {
  'inproc-rpc': () => import('./scenarios/inproc-rpc.js'),
  resilience: () => import('./scenarios/resilience.js'),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = wanted.filter((w) => !(w in scenarios));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
for (const [name, load] of Object.entries(scenarios)) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n## ${name}`);
  const mod = await load();
  await mod.default();
}
