/** Small helpers every scenario shares: timing loops, interleaved A/B rounds and ratio tables. */
import { recordCase, round } from './results.js';

/** Result of timing one variant. */
export interface Timing {
  readonly name: string;
  /** Operations per second (median of rounds). */
  readonly opsPerSec: number;
  /** Mean ns per operation (median of rounds). */
  readonly nsPerOp: number;
  /** Median of the mean ns per operation of each batch of {@link BATCH} calls, all rounds together. */
  readonly p50Ns?: number;
  /** 99th percentile of those batch means. */
  readonly p99Ns?: number;
}

/**
 * Calls per timed batch for the percentiles of {@link compareSequential}: timing each call alone
 * would add the clock's own cost (tens of ns) to a direct call that takes a few ns.
 */
export const BATCH = 64;

/**
 * Runs `fn` sequentially `iterations` times and returns the elapsed nanoseconds; when `batches`
 * is given, pushes the mean ns per call of each batch of {@link BATCH} calls onto it.
 */
export async function timeSequential(
  fn: () => Promise<unknown>,
  iterations: number,
  batches?: number[],
): Promise<number> {
  const start = process.hrtime.bigint();
  if (!batches) {
    for (let i = 0; i < iterations; i++) await fn();
    return Number(process.hrtime.bigint() - start);
  }
  for (let i = 0; i < iterations; i += BATCH) {
    const t = process.hrtime.bigint();
    for (let j = 0; j < BATCH; j++) await fn();
    batches.push(Number(process.hrtime.bigint() - t) / BATCH);
  }
  return Number(process.hrtime.bigint() - start);
}

/** The `p` quantile of `values` (0 ≤ p ≤ 1). */
export function quantile(values: readonly number[], p: number): number {
  const sorted = Float64Array.from(values).sort();
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? Number.NaN;
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

/**
 * Times each variant in interleaved rounds (A B C A B C …) after a warm-up, so drift of the
 * machine hits every variant alike, and returns the median per variant.
 */
export async function compareSequential(
  variants: Readonly<Record<string, () => Promise<unknown>>>,
  options: { readonly iterations?: number; readonly rounds?: number; readonly warmup?: number } = {},
): Promise<Timing[]> {
  const iterations = options.iterations ?? 200_000;
  const rounds = options.rounds ?? 5;
  const names = Object.keys(variants);
  for (const name of names) await timeSequential(variants[name]!, options.warmup ?? 50_000);
  const samples = new Map<string, number[]>(names.map((n) => [n, []]));
  const batches = new Map<string, number[]>(names.map((n) => [n, []]));
  for (let r = 0; r < rounds; r++) {
    for (const name of names)
      samples.get(name)!.push(await timeSequential(variants[name]!, iterations, batches.get(name)));
  }
  return names.map((name) => {
    const ns = median(samples.get(name)!) / iterations;
    const b = batches.get(name)!;
    return { name, nsPerOp: ns, opsPerSec: 1e9 / ns, p50Ns: quantile(b, 0.5), p99Ns: quantile(b, 0.99) };
  });
}

/** Prints a table of timings with each variant's ratio to `baseline`. */
export function printTable(timings: readonly Timing[], baseline: string): void {
  const base = timings.find((t) => t.name === baseline);
  const rows = timings.map((t) => ({
    variant: t.name,
    'ops/s': Math.round(t.opsPerSec).toLocaleString('en-US'),
    'ns/op': t.nsPerOp.toFixed(0),
    [`vs ${baseline}`]: base ? `${(t.opsPerSec / base.opsPerSec).toFixed(3)}x` : '-',
    'added ns/op': base ? (t.nsPerOp - base.nsPerOp).toFixed(0) : '-',
  }));
  console.table(rows);
}

/** Records timings of {@link compareSequential} as one case of the results file (no RSS: one process). */
export function recordTimings(
  caseName: string,
  baseline: string,
  method: string,
  timings: readonly Timing[],
): void {
  recordCase(
    caseName,
    baseline,
    method,
    timings.map((t) => ({
      contender: t.name,
      opsPerSec: Math.round(t.opsPerSec),
      p50Us: t.p50Ns === undefined ? null : round(t.p50Ns / 1000, 3),
      p99Us: t.p99Ns === undefined ? null : round(t.p99Ns / 1000, 3),
      rssMb: null,
      extra: { nsPerOp: round(t.nsPerOp, 0) },
    })),
  );
}
