/**
 * What the request-lane scenarios (`rpc`, `tls`) share: server children started and stopped over
 * IPC, their CPU time, and one time-boxed closed-loop round of calls with its latencies and CPU
 * per call on each side.
 */
import { type ChildProcess, fork } from 'node:child_process';
import type { FromChild, ToChild } from './rpc-protocol.js';

/** One time-boxed round of one lane. */
export interface Round {
  readonly callsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly clientCpuUs: number;
  readonly serverCpuUs: number;
  /** The server child's resident set size at the end of the round, MB. */
  readonly serverRssMb: number;
}

/** Starts `rpc-server.ts` with `args` in a child process and waits for the port it serves on. */
export function startChild(args: readonly string[]): Promise<{ child: ChildProcess; port: number }> {
  const child = fork(new URL('./rpc-server.ts', import.meta.url), [...args], {
    // Profiled only when asked (BENCH_CPU_PROF_DIR), each child to its own file in that folder.
    execArgv: [
      ...process.execArgv.filter((a) => !a.startsWith('--cpu-prof')),
      ...(process.env.BENCH_CPU_PROF_DIR
        ? ['--cpu-prof', `--cpu-prof-dir=${process.env.BENCH_CPU_PROF_DIR}`]
        : []),
    ],
  });
  const name = args[0] ?? 'server';
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
    child.once('message', (m: FromChild) => {
      if (m.type === 'ready') resolve({ child, port: m.port });
      else if (m.type === 'failed') reject(new Error(`${name} server failed: ${m.error}`));
    });
  });
}

/** Asks a server child to stop, killing it if it has not exited after 5 s. */
export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    child.send({ type: 'stop' } satisfies ToChild);
  });
}

/** The CPU time (user + system, µs) a server child has used so far. */
export async function serverCpu(child: ChildProcess): Promise<number> {
  return (await serverUsage(child)).micros;
}

/** The CPU time (µs) a server child has used so far and its resident set size (bytes). */
export function serverUsage(child: ChildProcess): Promise<{ micros: number; rssBytes: number }> {
  return new Promise((resolve) => {
    const onMessage = (m: FromChild): void => {
      if (m.type !== 'cpu') return;
      child.off('message', onMessage);
      resolve({ micros: m.micros, rssBytes: m.rssBytes ?? Number.NaN });
    };
    child.on('message', onMessage);
    child.send({ type: 'cpu' } satisfies ToChild);
  });
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

/** Calls `call` from `concurrency` closed loops for `durationMs`, charging CPU to each side. */
export async function round(
  child: ChildProcess,
  call: () => Promise<unknown>,
  durationMs: number,
  concurrency: number,
): Promise<Round> {
  const latencies: number[] = [];
  const serverBefore = await serverCpu(child);
  const cpuBefore = process.cpuUsage();
  const start = performance.now();
  const end = start + durationMs;
  const worker = async (): Promise<void> => {
    while (performance.now() < end) {
      const t = performance.now();
      await call();
      latencies.push((performance.now() - t) * 1_000);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsedMs = performance.now() - start;
  const cpu = process.cpuUsage(cpuBefore);
  const serverAfter = await serverUsage(child);
  const calls = latencies.length;
  const sorted = Float64Array.from(latencies).sort();
  return {
    callsPerSec: (calls * 1_000) / elapsedMs,
    p50Us: percentile(sorted, 0.5),
    p99Us: percentile(sorted, 0.99),
    clientCpuUs: (cpu.user + cpu.system) / calls,
    serverCpuUs: (serverAfter.micros - serverBefore) / calls,
    serverRssMb: serverAfter.rssBytes / 2 ** 20,
  };
}

/** The median of `values` (the upper one of an even count). */
export function medianOf(values: readonly number[]): number {
  const v = [...values].sort((a, b) => a - b);
  return v[Math.floor(v.length / 2)] ?? Number.NaN;
}

/** The median of one field over rounds. */
export function median(rounds: readonly Round[], key: keyof Round): number {
  return medianOf(rounds.map((r) => r[key]));
}

/** A number for a table, with `digits` decimals. */
export function fmt(n: number, digits = 0): string {
  return n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
}
