/**
 * What one `npm run bench` measured, kept for `bench/results/latest.json`: each scenario records
 * its cases (one table each), every contender with ops/s, p50, p99, RSS and its ratio to the
 * case's baseline; `run.ts` writes them all with the machine, the load and the command.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';

/** One contender of one case, as measured. */
export interface ContenderFigures {
  readonly contender: string;
  /** Operations (calls, messages, requests) per second; for start-up, starts per second (1000 / ms). */
  readonly opsPerSec: number;
  /** Median latency of one operation, µs; null when the scenario cannot time single operations. */
  readonly p50Us: number | null;
  /** 99th percentile latency, µs; null as for p50. */
  readonly p99Us: number | null;
  /** Resident set size of the process(es) that served the contender, MB; null when shared with others. */
  readonly rssMb: number | null;
  /** Anything else the scenario measured (CPU per call, ms to ready…), by name. */
  readonly extra?: Readonly<Record<string, number>>;
}

/** A contender with its ratio to the case's baseline (ops/s over the baseline's ops/s). */
export interface ContenderResult extends ContenderFigures {
  readonly ratio: number | null;
}

/** One table of one scenario. */
export interface CaseResult {
  readonly scenario: string;
  readonly case: string;
  readonly baseline: string;
  /** How the figures were taken (rounds, duration, what p50/p99 are). */
  readonly method: string;
  readonly contenders: readonly ContenderResult[];
}

/** The whole file. */
export interface BenchResults {
  readonly date: string;
  readonly command: string;
  readonly quick: boolean;
  readonly machine: {
    readonly cpus: number;
    readonly cpuModel: string;
    readonly memoryGb: number;
    readonly node: string;
    readonly platform: string;
  };
  /** `uptime`'s load averages (1, 5, 15 min) when the run started and when it ended. */
  readonly load: { readonly start: readonly number[]; readonly end: readonly number[] };
  readonly scenarios: readonly string[];
  readonly cases: readonly CaseResult[];
  /** Scenarios that threw, with the message: their cases are missing. */
  readonly failures: readonly { readonly scenario: string; readonly error: string }[];
}

const cases: CaseResult[] = [];
let current = 'unknown';

/** True when `npm run bench -- --quick` asked for the short run (fewer rounds, shorter rounds). */
export function isQuick(): boolean {
  return process.env.REFRONT_BENCH_QUICK === '1';
}

/** `full` normally, `quick` under `--quick`. */
export function pick<T>(full: T, quick: T): T {
  return isQuick() ? quick : full;
}

/** Names the scenario that the next {@link recordCase} calls belong to (run.ts calls it). */
export function beginScenario(name: string): void {
  current = name;
}

/** Records one case; ratios are computed against `baseline` (a contender's name). */
export function recordCase(
  name: string,
  baseline: string,
  method: string,
  contenders: readonly ContenderFigures[],
): CaseResult {
  const base = contenders.find((c) => c.contender === baseline)?.opsPerSec;
  const result: CaseResult = {
    scenario: current,
    case: name,
    baseline,
    method,
    contenders: contenders.map((c) => ({
      ...c,
      ratio: base && Number.isFinite(c.opsPerSec) ? round(c.opsPerSec / base, 3) : null,
    })),
  };
  cases.push(result);
  return result;
}

/** Every case recorded so far. */
export function recordedCases(): readonly CaseResult[] {
  return cases;
}

/** `n` rounded to `digits` decimals. */
export function round(n: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** The machine this runs on, for the results file. */
export function machine(): BenchResults['machine'] {
  return {
    cpus: cpus().length,
    cpuModel: cpus()[0]?.model ?? 'unknown',
    memoryGb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    platform: `${process.platform} ${process.arch}`,
  };
}

/** The load averages now, as `uptime` prints them. */
export function load(): number[] {
  return loadavg().map((l) => round(l, 2));
}

/** Writes `results` as pretty JSON to `url` (creating its directory). */
export function writeResults(url: URL, results: BenchResults): void {
  mkdirSync(new URL('.', url), { recursive: true });
  writeFileSync(url, `${JSON.stringify(results, null, 2)}\n`);
}

/** Resident set size of process `pid` in MB from /proc (Linux), or null when it cannot be read. */
export async function rssOfPid(pid: number | undefined): Promise<number | null> {
  if (pid === undefined) return null;
  const { readFile } = await import('node:fs/promises');
  try {
    const status = await readFile(`/proc/${pid}/status`, 'utf8');
    const kb = /VmRSS:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? round(Number(kb) / 1024, 1) : null;
  } catch {
    return null;
  }
}
