/**
 * `node --import tsx bench/src/report.ts [results.json]`: the table of issue 25 (figure now against
 * the aim, met or not) and every case's table, in Markdown, from one results file (default
 * `bench/results/latest.json`), for `docs/performance.md`.
 */
import { readFileSync } from 'node:fs';
import type { BenchResults, CaseResult, ContenderResult } from './results.js';

const file = process.argv[2] ?? new URL('../results/latest.json', import.meta.url).pathname;
const results = JSON.parse(readFileSync(file, 'utf8')) as BenchResults;

const findCase = (prefix: string): CaseResult | undefined =>
  results.cases.find((c) => c.case.startsWith(prefix));
const of = (c: CaseResult | undefined, name: string): ContenderResult | undefined =>
  c?.contenders.find((x) => x.contender.startsWith(name));
const n = (x: number | undefined | null, digits = 0): string =>
  x === undefined || x === null || !Number.isFinite(x)
    ? 'not measured'
    : x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const ratio = (a: number | undefined, b: number | undefined): number | undefined =>
  a !== undefined && b !== undefined && b > 0 ? a / b : undefined;
const met = (ok: boolean | undefined): string => (ok === undefined ? '—' : ok ? 'met' : 'not met');

const rows: string[][] = [];

const inproc = findCase('in-process call');
const refIn = of(inproc, 'Refront in-process (defaults)');
const direct = of(inproc, 'direct function call');
const molOn = of(inproc, 'Moleculer local call, metrics+tracing on');
const addedUs =
  refIn?.extra?.nsPerOp !== undefined && direct?.extra?.nsPerOp !== undefined
    ? (refIn.extra.nsPerOp - direct.extra.nsPerOp) / 1000
    : undefined;
const inVsMol = ratio(refIn?.opsPerSec, molOn?.opsPerSec);
rows.push([
  'in-process call with the defaults, calls/s (added per call); vs Moleculer local, metrics+tracing on',
  `${n(refIn?.opsPerSec)} (${n(addedUs, 2)} µs); ${n(inVsMol, 2)}×`,
  '≥ 500k (≤ 2 µs), and ≥ 1.00×',
  met(refIn && inVsMol !== undefined ? refIn.opsPerSec >= 500_000 && inVsMol >= 1 : undefined),
]);

const rpc64 = findCase('rpc echo 32 B, concurrency 64');
const mux = of(rpc64, 'Refront over mux');
const muxOff = of(rpc64, 'mux, defaults off');
const muxRatio = ratio(mux?.opsPerSec, muxOff?.opsPerSec);
rows.push([
  'mux with the defaults / mux with them off, c=64',
  `${n(mux?.opsPerSec)} / ${n(muxOff?.opsPerSec)} = ${n(muxRatio, 2)}`,
  '≥ 0.80',
  met(muxRatio === undefined ? undefined : muxRatio >= 0.8),
]);

const grpc = of(rpc64, 'Refront over gRPC');
const bareGrpc = of(rpc64, 'bare grpc-js');
const gT = ratio(grpc?.opsPerSec, bareGrpc?.opsPerSec);
const gP = ratio(grpc?.p99Us ?? undefined, bareGrpc?.p99Us ?? undefined);
rows.push([
  'Refront gRPC / bare grpc-js, c=64 throughput; p99',
  `${n(gT, 2)}; ${n(gP, 2)}`,
  '≥ 0.95; ≤ 1.15',
  met(gT === undefined || gP === undefined ? undefined : gT >= 0.95 && gP <= 1.15),
]);

const ev = findCase('events');
const evR = of(ev, 'Refront AmqpEventBus');
const evM = ratio(evR?.opsPerSec, of(ev, 'Moleculer')?.opsPerSec);
const evN = ratio(evR?.opsPerSec, of(ev, 'NestJS')?.opsPerSec);
rows.push([
  'events, publish → consume, vs Moleculer (AMQP transporter) and NestJS (RMQ)',
  `${n(evR?.opsPerSec)} msgs/s: ${n(evM, 2)}× Moleculer, ${n(evN, 2)}× NestJS`,
  '≥ 1.2× both',
  met(evM === undefined || evN === undefined ? undefined : evM >= 1.2 && evN >= 1.2),
]);

const gw = findCase('HTTP');
const mono = of(gw, 'Refront monolith');
const dMux = of(gw, 'Refront distributed on mux');
const dGrpc = of(gw, 'Refront distributed on grpc');
rows.push([
  'HTTP through the gateway to a service and back, monolith and distributed (vs bare Fastify + same read)',
  `monolith ${n(mono?.ratio, 2)}×; distributed mux ${n(dMux?.ratio, 2)}×, gRPC ${n(dGrpc?.ratio, 2)}×`,
  'monolith ≥ 0.5×; distributed ≥ 0.35×',
  met(
    mono?.ratio == null || dMux?.ratio == null || dGrpc?.ratio == null
      ? undefined
      : mono.ratio >= 0.5 && dMux.ratio >= 0.35 && dGrpc.ratio >= 0.35,
  ),
]);

const st = findCase('start to ready');
const bundle = of(st, 'one service (tickets), image bundle');
const tsx = of(st, 'one service (tickets), tsx');
const monoSt = of(st, 'monolith demo');
rows.push([
  'one service process: start to ready on PostgreSQL; idle RSS',
  `bundle ${n(bundle?.extra?.readyMs)} ms, ${n(bundle?.rssMb)} MB; tsx ${n(tsx?.extra?.readyMs)} ms, ${n(tsx?.rssMb)} MB`,
  '< 1 s; < 80 MB',
  met(
    bundle?.extra?.readyMs === undefined || bundle.rssMb === null
      ? undefined
      : bundle.extra.readyMs < 1000 && bundle.rssMb < 80,
  ),
]);
rows.push([
  'whole monolith demo: start to ready',
  `${n(monoSt?.extra?.readyMs)} ms (idle RSS ${n(monoSt?.rssMb)} MB)`,
  '< 3 s',
  met(monoSt?.extra?.readyMs === undefined ? undefined : monoSt.extra.readyMs < 3000),
]);

const table = (head: string[], body: string[][]): string =>
  [
    `| ${head.join(' | ')} |`,
    `|${head.map(() => '---').join('|')}|`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

console.log(
  `Run: \`${results.command}\`, ${results.date}, ${results.machine.cpus} × ${results.machine.cpuModel}, ` +
    `${results.machine.memoryGb} GB, Node ${results.machine.node}; load average ${results.load.start.join(' / ')} at ` +
    `the start, ${results.load.end.join(' / ')} at the end.\n`,
);
console.log(table(['measure', 'this run', 'aim', ''], rows));
for (const c of results.cases) {
  console.log(`\n**${c.case}** (${c.scenario}; baseline: ${c.baseline}). ${c.method}.\n`);
  console.log(
    table(
      ['contender', 'ops/s', 'p50 µs', 'p99 µs', 'RSS MB', 'ratio'],
      c.contenders.map((x) => [
        x.contender,
        n(x.opsPerSec, x.opsPerSec < 10 ? 3 : 0),
        x.p50Us === null ? '—' : n(x.p50Us, x.p50Us < 10 ? 2 : 0),
        x.p99Us === null ? '—' : n(x.p99Us, x.p99Us < 10 ? 2 : 0),
        x.rssMb === null ? '—' : n(x.rssMb, 1),
        x.ratio === null ? '—' : `${n(x.ratio, 2)}×`,
      ]),
    ),
  );
}
if (results.failures.length > 0)
  console.log(`\nFailed: ${results.failures.map((f) => `${f.scenario} (${f.error})`).join('; ')}`);
