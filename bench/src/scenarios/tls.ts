/**
 * What TLS and mutual TLS cost per call on both Refront request lanes, in one run: a closed-loop
 * echo of a 32-byte message at concurrency 1 and 64 through Refront over gRPC and over mux, each
 * in three set-ups: plaintext, TLS with a server
 * certificate only, and mutual TLS with declared callers (the distributed demo's configuration:
 * a certificate each side, `auth.callers` checked per call). The certificates are development
 * ones (`createDevCertificates`, RSA 2048) made at start in a temporary folder, deleted at the end.
 * Every server lives in its own child process; rounds are time-boxed and interleaved after a
 * warm-up, each figure is the median of its rounds, and the ratios compare each set-up with
 * plaintext on the same lane. Then the one-time cost of a connection: the time from creating a
 * fresh client to its first answer (channel set-up, TCP connect, TLS handshake, first call), fresh
 * clients interleaved across set-ups.
 *
 * Env: TLS_BENCH_ROUNDS (default 5), TLS_BENCH_ROUND_MS (default 600), TLS_BENCH_CONNECTS (fresh
 * clients per set-up, default 20).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createDevCertificates, type DevCertificates } from '@refront/identity';
import type { ClientTlsOptions } from '@refront/rpc';
import { type LaneClient, refrontGrpcClient, refrontMuxClient } from '../rpc-clients.js';
import { fmt, median, medianOf, type Round, round, serverCpu, startChild, stopChild } from '../rpc-rounds.js';
import {
  CALLER_SERVICE,
  clientSecurity,
  SECURITIES,
  SERVER_SERVICE,
  type Security,
  type ServerSecuritySpec,
} from '../tls-security.js';

type TlsLane = 'refront-grpc' | 'refront-mux';

interface Variant {
  readonly lane: TlsLane;
  readonly security: Security;
  readonly label: string;
  readonly child: ChildProcess;
  readonly port: number;
  readonly tls: ClientTlsOptions | undefined;
  readonly client: LaneClient;
}

/** Time to a fresh client's first answer, and the CPU it took on each side. */
interface Connect {
  readonly ms: number;
  readonly clientCpuMs: number;
  readonly serverCpuMs: number;
}

const LANE_LABELS: Record<TlsLane, string> = { 'refront-grpc': 'gRPC', 'refront-mux': 'mux' };
const SECURITY_LABELS: Record<Security, string> = {
  plaintext: 'plaintext',
  tls: 'TLS (server cert)',
  mtls: 'mTLS + callers',
};

function openClient(v: Omit<Variant, 'client' | 'label'>): Promise<LaneClient> {
  return v.lane === 'refront-grpc' ? refrontGrpcClient(v.port, v.tls) : refrontMuxClient(v.port, v.tls);
}

async function startVariant(lane: TlsLane, security: Security, certs: DevCertificates): Promise<Variant> {
  const spec: ServerSecuritySpec = {
    security,
    ...(security === 'plaintext' ? {} : { files: certs.files(SERVER_SERVICE) }),
  };
  const { child, port } = await startChild([lane, JSON.stringify(spec)]);
  const tls = clientSecurity(security, certs.files(CALLER_SERVICE));
  const label = `${LANE_LABELS[lane]} ${SECURITY_LABELS[security]}`;
  try {
    const base = { lane, security, child, port, tls };
    return { ...base, label, client: await openClient(base) };
  } catch (e: unknown) {
    await stopChild(child);
    throw e;
  }
}

function ratio(a: number, b: number): string {
  return b ? `${(a / b).toFixed(2)}x` : '-';
}

function printCalls(concurrency: number, variants: readonly Variant[], results: Map<Variant, Round[]>): void {
  const plain = (lane: TlsLane): Round[] =>
    results.get(variants.find((v) => v.lane === lane && v.security === 'plaintext') as Variant) ?? [];
  const rows: Record<string, Record<string, string>> = {};
  for (const v of variants) {
    const rs = results.get(v) ?? [];
    rows[v.label] = {
      'calls/s': fmt(median(rs, 'callsPerSec')),
      'p50 µs': fmt(median(rs, 'p50Us')),
      'p99 µs': fmt(median(rs, 'p99Us')),
      'client CPU µs/call': fmt(median(rs, 'clientCpuUs'), 1),
      'server CPU µs/call': fmt(median(rs, 'serverCpuUs'), 1),
      'calls/s vs plaintext': ratio(median(rs, 'callsPerSec'), median(plain(v.lane), 'callsPerSec')),
    };
  }
  console.log(`\nconcurrency ${concurrency}: median of the rounds per set-up, set-ups interleaved`);
  console.table(rows);
  for (const lane of Object.keys(LANE_LABELS) as TlsLane[]) {
    const m = results.get(variants.find((v) => v.lane === lane && v.security === 'mtls') as Variant);
    const p = plain(lane);
    if (!m?.length || !p.length) continue;
    const r = (key: keyof Round): string => ratio(median(m, key), median(p, key));
    const d = (key: 'clientCpuUs' | 'serverCpuUs'): string => fmt(median(m, key) - median(p, key), 1);
    console.log(
      `mTLS / plaintext on ${LANE_LABELS[lane]} at ${concurrency}: calls/s ${r('callsPerSec')}, ` +
        `p50 ${r('p50Us')}, p99 ${r('p99Us')}; CPU µs/call added: client ${d('clientCpuUs')}, ` +
        `server ${d('serverCpuUs')}`,
    );
  }
}

/** Creates a fresh client, waits for its first answer, and closes it. */
async function connectOnce(v: Variant): Promise<Connect> {
  const serverBefore = await serverCpu(v.child);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const client = await openClient(v);
  try {
    await client.call();
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuBefore);
    const serverAfter = await serverCpu(v.child);
    return {
      ms,
      clientCpuMs: (cpu.user + cpu.system) / 1_000,
      serverCpuMs: (serverAfter - serverBefore) / 1_000,
    };
  } finally {
    await client.close();
  }
}

function printConnects(variants: readonly Variant[], results: Map<Variant, Connect[]>, count: number): void {
  const of = (v: Variant | undefined, key: keyof Connect): number =>
    medianOf((v ? results.get(v) : undefined)?.map((c) => c[key]) ?? []);
  const rows: Record<string, Record<string, string>> = {};
  for (const v of variants) {
    const plain = variants.find((p) => p.lane === v.lane && p.security === 'plaintext');
    const sorted = (results.get(v) ?? []).map((c) => c.ms).sort((a, b) => a - b);
    rows[v.label] = {
      'first call ms (p50)': fmt(of(v, 'ms'), 2),
      'first call ms (p90)': fmt(sorted[Math.floor(sorted.length * 0.9)] ?? Number.NaN, 2),
      'client CPU ms': fmt(of(v, 'clientCpuMs'), 2),
      'server CPU ms': fmt(of(v, 'serverCpuMs'), 2),
      'p50 vs plaintext': ratio(of(v, 'ms'), of(plain, 'ms')),
    };
  }
  console.log(
    `\nfresh client to first answer (channel, connect, handshake, first call): ${count} per set-up, ` +
      'interleaved, after a warm-up; CPU of both sides over the same span',
  );
  console.table(rows);
}

async function measureCalls(variants: readonly Variant[], rounds: number, roundMs: number): Promise<void> {
  for (const concurrency of [1, 64]) {
    for (const v of variants) await round(v.child, v.client.call, roundMs / 2, concurrency); // warm-up
    const results = new Map<Variant, Round[]>(variants.map((v) => [v, []]));
    for (let i = 0; i < rounds; i++) {
      for (const v of variants)
        results.get(v)?.push(await round(v.child, v.client.call, roundMs, concurrency));
    }
    printCalls(concurrency, variants, results);
  }
}

async function measureConnects(variants: readonly Variant[], count: number): Promise<void> {
  for (let i = 0; i < 3; i++) for (const v of variants) await connectOnce(v); // warm-up
  const results = new Map<Variant, Connect[]>(variants.map((v) => [v, []]));
  for (let i = 0; i < count; i++) {
    for (const v of variants) results.get(v)?.push(await connectOnce(v));
  }
  printConnects(variants, results, count);
}

export default async function run(): Promise<void> {
  const rounds = Number(process.env.TLS_BENCH_ROUNDS ?? 5);
  const roundMs = Number(process.env.TLS_BENCH_ROUND_MS ?? 600);
  const connects = Number(process.env.TLS_BENCH_CONNECTS ?? 20);
  const dir = await mkdtemp(join(tmpdir(), 'refront-bench-tls-'));
  const variants: Variant[] = [];
  console.log('closed-loop echo of a 32-byte message on 127.0.0.1, each server in its own child process;');
  console.log('development certificates (RSA 2048) made now; mTLS declares the bench as the only caller');
  console.log('(a shared, noisy machine: compare set-ups within one run, not across runs)');
  try {
    const certs = await createDevCertificates({ dir, services: [SERVER_SERVICE, CALLER_SERVICE] });
    for (const lane of Object.keys(LANE_LABELS) as TlsLane[]) {
      for (const security of SECURITIES) variants.push(await startVariant(lane, security, certs));
    }
    await measureCalls(variants, rounds, roundMs);
    await measureConnects(variants, connects);
  } finally {
    for (const v of variants) {
      await v.client.close();
      await stopChild(v.child);
    }
    await rm(dir, { recursive: true, force: true });
  }
}
