/** Small helpers every scenario shares: timing loops, interleaved A/B rounds and ratio tables. */

/** Result of timing one variant. */
export interface Timing {
  readonly name: string;
  /** Operations per second (median of rounds). */
  readonly opsPerSec: number;
  /** Mean ns per operation (median of rounds). */
  readonly nsPerOp: number;
}

/** Runs `fn` sequentially `iterations` times and returns the elapsed nanoseconds. */
export async function timeSequential(fn: () => Promise<unknown>, iterations: number): Promise<number> {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) await fn();
  return Number(process.hrtime.bigint() - start);
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
  for (let r = 0; r < rounds; r++) {
    for (const name of names) samples.get(name)!.push(await timeSequential(variants[name]!, iterations));
  }
  return names.map((name) => {
    const ns = median(samples.get(name)!) / iterations;
    return { name, nsPerOp: ns, opsPerSec: 1e9 / ns };
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
