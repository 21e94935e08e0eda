/**
 * Request lanes side by side, in one run: a closed-loop echo of a 32-byte and of a 64 KiB message
 * at concurrency 1 and 64 through bare grpc-js, Refront over gRPC, Refront over mux (when `@refront/transport-mux`
 * resolves), Moleculer's TCP transporter and NestJS's TCP transport, each with its defaults. Every
 * server lives in its own child process; rounds are time-boxed and interleaved (A B C D E, A B…)
 * so machine drift hits every lane alike, and each figure is the median of its rounds. CPU per call
 * is measured on each side (the child reports process.cpuUsage over IPC).
 *
 * Env: RPC_BENCH_ROUNDS (default 5, 1 with --quick), RPC_BENCH_ROUND_MS (default 600, 200 with
 * --quick), RPC_BENCH_SIZES (bytes, comma-separated; default 32,65536), RPC_BENCH_ONLY (lanes,
 * comma-separated: grpc-bare,refront-grpc,refront-mux,refront-mux-bare,moleculer,nest). The
 * `refront-mux-bare` lane turns the default interceptors and the policy off on both sides; the CPU
 * difference to `refront-mux` is what they cost per call per side (issue 11: about 4 µs).
 */
import type { ChildProcess } from 'node:child_process';
import { pick, recordCase, round as round1 } from '../results.js';
import {
  grpcBareClient,
  type LaneClient,
  MESSAGE,
  moleculerClient,
  nestClient,
  refrontGrpcClient,
  refrontMuxBareClient,
  refrontMuxClient,
} from '../rpc-clients.js';
import type { Lane } from '../rpc-protocol.js';
import { fmt, median, type Round, round, startChild, stopChild } from '../rpc-rounds.js';

interface Running {
  readonly lane: Lane;
  readonly label: string;
  readonly child: ChildProcess;
  readonly client: LaneClient;
  /** The call of the cell being measured (the client's call with that cell's message). */
  call: () => Promise<unknown>;
}

const LABELS: Record<Lane, string> = {
  'grpc-bare': 'bare grpc-js',
  'refront-grpc': 'Refront over gRPC',
  'refront-mux': 'Refront over mux',
  'refront-mux-bare': 'mux, defaults off',
  moleculer: 'Moleculer TCP',
  nest: 'NestJS TCP',
};

async function client(lane: Lane, port: number): Promise<LaneClient> {
  switch (lane) {
    case 'grpc-bare':
      return grpcBareClient(port);
    case 'refront-grpc':
      return refrontGrpcClient(port);
    case 'refront-mux':
      return refrontMuxClient(port);
    case 'refront-mux-bare':
      return refrontMuxBareClient(port);
    case 'moleculer':
      return moleculerClient(port);
    case 'nest':
      return nestClient(port);
  }
}

/** `n` bytes of text: 32 B is the historical message, anything else is a repeated letter. */
function messageOf(bytes: number): string {
  return bytes === 32 ? MESSAGE : 'm'.repeat(bytes);
}

function sizeLabel(bytes: number): string {
  return bytes >= 1024 ? `${bytes / 1024} KiB` : `${bytes} B`;
}

function printCell(
  size: number,
  concurrency: number,
  runs: readonly Running[],
  results: Map<Lane, Round[]>,
  rounds: number,
  roundMs: number,
): Map<Lane, number> {
  const throughput = (lane: Lane): number | undefined => {
    const rs = results.get(lane);
    return rs ? median(rs, 'callsPerSec') : undefined;
  };
  const ratio = (n: number, base: number | undefined): string => (base ? `${(n / base).toFixed(2)}x` : '-');
  const rows: Record<string, Record<string, string>> = {};
  for (const run of runs) {
    const rs = results.get(run.lane) ?? [];
    const cps = median(rs, 'callsPerSec');
    rows[run.label] = {
      'calls/s': fmt(cps),
      'p50 µs': fmt(median(rs, 'p50Us')),
      'p99 µs': fmt(median(rs, 'p99Us')),
      'client CPU µs/call': fmt(median(rs, 'clientCpuUs'), 1),
      'server CPU µs/call': fmt(median(rs, 'serverCpuUs'), 1),
      'vs grpc-js': ratio(cps, throughput('grpc-bare')),
      'vs Moleculer': ratio(cps, throughput('moleculer')),
    };
  }
  console.log(
    `\n${sizeLabel(size)}, concurrency ${concurrency}: median of ${rounds} time-boxed rounds per lane, lanes interleaved`,
  );
  console.table(rows);
  printChainCost(concurrency, results);
  recordCase(
    `rpc echo ${sizeLabel(size)}, concurrency ${concurrency}`,
    'bare grpc-js',
    `${rounds} interleaved closed-loop rounds of ${roundMs} ms per lane after a warm-up, medians; ` +
      'p50/p99 per call; RSS of the server child',
    runs.map((run) => {
      const rs = results.get(run.lane) ?? [];
      return {
        contender: run.label,
        opsPerSec: Math.round(median(rs, 'callsPerSec')),
        p50Us: Math.round(median(rs, 'p50Us')),
        p99Us: Math.round(median(rs, 'p99Us')),
        rssMb: round1(median(rs, 'serverRssMb')),
        extra: {
          clientCpuUsPerCall: round1(median(rs, 'clientCpuUs')),
          serverCpuUsPerCall: round1(median(rs, 'serverCpuUs')),
        },
      };
    }),
  );
  return new Map(runs.map((r) => [r.lane, throughput(r.lane) ?? Number.NaN]));
}

/** What the default interceptors and policy cost per call on each side: mux minus mux with them off. */
function printChainCost(concurrency: number, results: Map<Lane, Round[]>): void {
  const full = results.get('refront-mux');
  const bare = results.get('refront-mux-bare');
  if (!full?.length || !bare?.length) return;
  const side = (key: 'clientCpuUs' | 'serverCpuUs'): string => fmt(median(full, key) - median(bare, key), 1);
  console.log(
    `default chain on mux at ${concurrency} (defaults on minus off, CPU µs/call): client ${side('clientCpuUs')} ` +
      `(interceptors and policy), server ${side('serverCpuUs')} (interceptors)`,
  );
}

/** Issue 11's aims: mux ≥ 1.2× Moleculer at concurrency 64, ahead of Moleculer and NestJS at 1. */
function printAims(byConcurrency: Map<number, Map<Lane, number>>): void {
  const at = (c: number, lane: Lane): number | undefined => byConcurrency.get(c)?.get(lane);
  const mux1 = at(1, 'refront-mux');
  const mux64 = at(64, 'refront-mux');
  const mol1 = at(1, 'moleculer');
  const mol64 = at(64, 'moleculer');
  const nest1 = at(1, 'nest');
  if (mux1 === undefined || mux64 === undefined || !mol1 || !mol64 || !nest1) return;
  const r = (a: number, b: number): string => `${(a / b).toFixed(2)}x`;
  console.log(
    `\naims (issue 11): mux / Moleculer at 64 = ${r(mux64, mol64)} (aim ≥ 1.20x); at 1: ` +
      `mux / Moleculer = ${r(mux1, mol1)}, mux / NestJS = ${r(mux1, nest1)} (aim > 1.00x each)`,
  );
}

export default async function run(): Promise<void> {
  const rounds = Number(process.env.RPC_BENCH_ROUNDS ?? pick(5, 1));
  const roundMs = Number(process.env.RPC_BENCH_ROUND_MS ?? pick(600, 200));
  const sizes = (process.env.RPC_BENCH_SIZES ?? '32,65536').split(',').map(Number);
  const only = process.env.RPC_BENCH_ONLY?.split(',').map((s) => s.trim());
  const lanes = (Object.keys(LABELS) as Lane[]).filter((l) => !only || only.includes(l));
  const runs: Running[] = [];
  console.log(
    `closed-loop echo of a ${sizes.map(sizeLabel).join(' and of a ')} message on 127.0.0.1, each server in its own child process`,
  );
  console.log('(a shared, noisy machine: compare lanes within one run, not across runs)');
  try {
    for (const lane of lanes) {
      const { child, port } = await startChild([lane]);
      try {
        const c = await client(lane, port);
        runs.push({ lane, label: LABELS[lane], child, client: c, call: c.call });
      } catch (e: unknown) {
        await stopChild(child);
        throw e;
      }
    }
    for (const size of sizes) {
      const message = messageOf(size);
      for (const r of runs) r.call = r.client.callWith(message);
      const byConcurrency = new Map<number, Map<Lane, number>>();
      for (const concurrency of [1, 64]) {
        for (const r of runs) await round(r.child, r.call, roundMs / 2, concurrency); // warm-up
        const results = new Map<Lane, Round[]>(runs.map((r) => [r.lane, []]));
        for (let i = 0; i < rounds; i++) {
          for (const r of runs) results.get(r.lane)?.push(await round(r.child, r.call, roundMs, concurrency));
        }
        byConcurrency.set(concurrency, printCell(size, concurrency, runs, results, rounds, roundMs));
      }
      if (size === 32) printAims(byConcurrency);
    }
  } finally {
    for (const r of runs) {
      await r.client.close();
      await stopChild(r.child);
    }
  }
}
