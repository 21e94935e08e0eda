/**
 * `npm run bench [-- [--quick] [name…]]`: runs every scenario in `scenarios/` (or those named),
 * each of which times Refront against the raw library or peer underneath in the same run and
 * prints the ratios, then writes every figure to `bench/results/latest.json` (or
 * `REFRONT_BENCH_OUT`) with the machine, the load before and after, and the command.
 * `--quick` runs the scenarios of issue 25's table only ({@link QUICK}, unless others are named),
 * with fewer and shorter rounds, to check that they work and write well-formed results.
 */
import { readdirSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { type BenchResults, beginScenario, load, machine, recordedCases, writeResults } from './results.js';

const args = process.argv.slice(2);
if (args.includes('--quick')) process.env.REFRONT_BENCH_QUICK = '1';
const quick = process.env.REFRONT_BENCH_QUICK === '1';

const dir = new URL('./scenarios/', import.meta.url);
const scenarios = readdirSync(dir)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'))
  .map((f) => f.replace(/\.ts$/, ''))
  .sort();

/** What `--quick` runs when no scenario is named: the rows of issue 25's table. */
const QUICK = ['events', 'gateway', 'inproc-rpc', 'rpc', 'startup'];

const named = args.filter((a) => !a.startsWith('-'));
const wanted = named.length === 0 && quick ? QUICK : named;
const unknown = wanted.filter((w) => !scenarios.includes(w));
if (unknown.length > 0) {
  console.error(`unknown scenario(s): ${unknown.join(', ')}; known: ${scenarios.join(', ')}`);
  process.exit(2);
}
const out = process.env.REFRONT_BENCH_OUT
  ? pathToFileURL(process.env.REFRONT_BENCH_OUT)
  : new URL('../results/latest.json', import.meta.url);
const date = new Date().toISOString();
const loadAtStart = load();
const ran: string[] = [];
const failures: { scenario: string; error: string }[] = [];
console.log(`bench ${quick ? '(quick) ' : ''}on ${machine().cpus} cores, load ${loadAtStart.join(' ')}`);
for (const name of scenarios) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n## ${name}`);
  beginScenario(name);
  ran.push(name);
  const started = performance.now();
  try {
    const mod = (await import(new URL(`${name}.ts`, dir).href)) as { default: () => Promise<void> };
    await mod.default();
  } catch (e: unknown) {
    // One scenario's failure (a broker down, a port taken) must not lose the others' figures.
    const error = e instanceof Error ? e.message : String(e);
    console.error(`scenario ${name} failed: ${error}`);
    failures.push({ scenario: name, error });
  }
  console.log(`(${name}: ${((performance.now() - started) / 1000).toFixed(1)} s)`);
}
const results: BenchResults = {
  date,
  command:
    process.env.npm_lifecycle_event === 'bench'
      ? `npm run bench${args.length ? ` -- ${args.join(' ')}` : ''}`
      : `node ${process.execArgv.join(' ')} bench/src/run.ts ${args.join(' ')}`.trim(),
  quick,
  machine: machine(),
  load: { start: loadAtStart, end: load() },
  scenarios: ran,
  cases: recordedCases(),
  failures,
};
writeResults(out, results);
console.log(
  `\nresults: ${out.pathname} (load ${results.load.start.join(' ')} → ${results.load.end.join(' ')})`,
);
if (failures.length > 0) process.exitCode = 1;
