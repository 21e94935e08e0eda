/**
 * Unary Echo over gRPC on loopback: bare grpc-js client → bare grpc-js server, against a Refront
 * client (context, span, metrics, resolve → balancer → default policy with a breaker per instance)
 * → Refront server (context + deadline, span, metrics), in the same run. The servers live in a
 * child process; rounds alternate A/B/A/B and each figure is the median of its rounds. CPU per
 * call is measured on each side (the child reports process.cpuUsage over IPC).
 *
 * Env: GRPC_BENCH_ONLY=bare|refront runs one variant (for `node --cpu-prof`), GRPC_BENCH_ROUNDS,
 * GRPC_BENCH_CHILD_ARGS (extra node flags for the server process, e.g. `--cpu-prof`).
 */
import { type ChildProcess, fork } from 'node:child_process';
import { Client, credentials, Metadata } from '@grpc/grpc-js';
import { createLogger, createMetricsRegistry } from '@refront/core';
import { createStaticRegistry } from '@refront/discovery';
import { EchoRequest, type EchoResponse, EchoServiceDefinition } from '@refront/test-contracts';
import { createGrpcClient } from '@refront/transport-grpc';
import type { FromChild, ToChild } from '../grpc-server.js';

type Call = () => Promise<unknown>;

interface Round {
  readonly callsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly clientCpuUs: number;
  readonly serverCpuUs: number;
  /** User time only: steadier than user + system, which includes the kernel's share of loopback I/O. */
  readonly clientUserUs: number;
  readonly serverUserUs: number;
}

function startChild(): Promise<{ child: ChildProcess; bare: number; refront: number }> {
  const extra = (process.env.GRPC_BENCH_CHILD_ARGS ?? '').split(' ').filter(Boolean);
  const child = fork(new URL('../grpc-server.ts', import.meta.url), {
    execArgv: [...process.execArgv.filter((a) => !a.startsWith('--cpu-prof')), ...extra],
  });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', (m: FromChild) => {
      if (m.type === 'ready') resolve({ child, bare: m.bare, refront: m.refront });
    });
  });
}

function serverCpu(child: ChildProcess): Promise<{ micros: number; userMicros: number }> {
  return new Promise((resolve) => {
    child.once('message', (m: FromChild) => {
      if (m.type === 'cpu') resolve(m);
    });
    child.send({ type: 'cpu' } satisfies ToChild);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

async function round(child: ChildProcess, call: Call, calls: number, concurrency: number): Promise<Round> {
  const latencies = new Float64Array(calls);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < calls) {
      const i = next++;
      const t = process.hrtime.bigint();
      await call();
      latencies[i] = Number(process.hrtime.bigint() - t) / 1_000;
    }
  };
  const serverBefore = await serverCpu(child);
  const cpuBefore = process.cpuUsage();
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedNs = Number(process.hrtime.bigint() - start);
  const cpu = process.cpuUsage(cpuBefore);
  const serverAfter = await serverCpu(child);
  latencies.sort();
  return {
    callsPerSec: (calls * 1e9) / elapsedNs,
    p50Us: percentile(latencies, 0.5),
    p99Us: percentile(latencies, 0.99),
    clientCpuUs: (cpu.user + cpu.system) / calls,
    serverCpuUs: (serverAfter.micros - serverBefore.micros) / calls,
    clientUserUs: cpu.user / calls,
    serverUserUs: (serverAfter.userMicros - serverBefore.userMicros) / calls,
  };
}

function median(rounds: readonly Round[], key: keyof Round): number {
  const v = rounds.map((r) => r[key]).sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)]!;
}

function bareCall(port: number): { call: Call; close: () => void } {
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  const echo = EchoServiceDefinition.methods.echo;
  const serialize = (m: EchoRequest) => Buffer.from(echo.requestType.encode(m).finish());
  const deserialize = (b: Buffer) => echo.responseType.decode(b);
  const request = EchoRequest.fromPartial({ message: 'hello, 32 bytes of payload text!' });
  const call: Call = () =>
    new Promise<EchoResponse>((resolve, reject) => {
      client.makeUnaryRequest(
        '/refront.testing.v1.EchoService/Echo',
        serialize,
        deserialize,
        request,
        new Metadata(),
        { deadline: Date.now() + 10_000 },
        (err, res) => (err ? reject(err) : resolve(res as EchoResponse)),
      );
    });
  return { call, close: () => client.close() };
}

function refrontCall(port: number) {
  const logger = createLogger({ service: 'bench', level: 'silent' });
  const registry = createStaticRegistry({ services: { echo: [{ address: '127.0.0.1', port }] }, logger });
  const client = createGrpcClient(EchoServiceDefinition, {
    discovery: registry,
    service: 'echo',
    caller: 'bench',
    metrics: createMetricsRegistry({ processMetrics: false }),
    logger,
  });
  const request = { message: 'hello, 32 bytes of payload text!' };
  return { call: () => client.echo(request), close: () => client.close() };
}

function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}

export default async function run(): Promise<void> {
  const { child, bare, refront } = await startChild();
  const only = process.env.GRPC_BENCH_ONLY;
  const rounds = Number(process.env.GRPC_BENCH_ROUNDS ?? 5);
  const variants: Record<string, { call: Call; close: () => unknown }> = {};
  if (only !== 'refront') variants['bare grpc-js'] = bareCall(bare);
  if (only !== 'bare') variants['refront (all interceptors)'] = refrontCall(refront);
  const names = Object.keys(variants);
  try {
    for (const [concurrency, calls] of [
      [1, 4_000],
      [64, 24_000],
    ] as const) {
      for (const name of names) await round(child, variants[name]!.call, calls / 2, concurrency); // warm-up
      const results = new Map<string, Round[]>(names.map((n) => [n, []]));
      for (let r = 0; r < rounds; r++) {
        for (const name of names)
          results.get(name)!.push(await round(child, variants[name]!.call, calls, concurrency));
      }
      console.log(
        `\nconcurrency ${concurrency}, ${calls} calls per round, median of ${rounds} rounds (A/B interleaved)`,
      );
      const rows: Record<string, Record<string, string>> = {};
      for (const name of names) {
        const rs = results.get(name)!;
        rows[name] = {
          'calls/s': fmt(median(rs, 'callsPerSec')),
          'p50 µs': fmt(median(rs, 'p50Us')),
          'p99 µs': fmt(median(rs, 'p99Us')),
          'client CPU µs/call': fmt(median(rs, 'clientCpuUs'), 1),
          'server CPU µs/call': fmt(median(rs, 'serverCpuUs'), 1),
          'client user µs': fmt(median(rs, 'clientUserUs'), 1),
          'server user µs': fmt(median(rs, 'serverUserUs'), 1),
        };
      }
      console.table(rows);
      if (names.length === 2) {
        const [a, b] = names.map((n) => results.get(n)!) as [Round[], Round[]];
        const ratio = (k: keyof Round) => median(b, k) / median(a, k);
        console.log(
          `refront / bare: throughput ${ratio('callsPerSec').toFixed(3)}x, p50 ${ratio('p50Us').toFixed(3)}x, ` +
            `p99 ${ratio('p99Us').toFixed(3)}x, client CPU +${fmt(median(b, 'clientCpuUs') - median(a, 'clientCpuUs'), 1)} µs, ` +
            `server CPU +${fmt(median(b, 'serverCpuUs') - median(a, 'serverCpuUs'), 1)} µs per call ` +
            `(user time: client +${fmt(median(b, 'clientUserUs') - median(a, 'clientUserUs'), 1)}, ` +
            `server +${fmt(median(b, 'serverUserUs') - median(a, 'serverUserUs'), 1)} µs)`,
        );
      }
    }
  } finally {
    for (const v of Object.values(variants)) await v.close();
    child.send({ type: 'stop' } satisfies ToChild);
    await new Promise((resolve) => child.once('exit', resolve));
  }
}
