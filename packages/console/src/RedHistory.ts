import type { RedRow } from './red.js';

/** One interval of one series: what happened between two samples of `/metrics`. */
export interface RedPoint {
  /** End of the interval, ms since the epoch. */
  readonly at: number;
  /** Calls or events per second. */
  readonly rate: number;
  /** Failed ones per second. */
  readonly errorRate: number;
  /** Mean duration of the interval's calls in ms (0 when there were none). */
  readonly meanMs: number;
}

/** Options of {@link RedHistory}. */
export interface RedHistoryOptions {
  /** Points kept per series (the ring's size). @default 60 (5 minutes at the default interval) */
  readonly capacity?: number;
}

interface Series {
  last: { at: number; count: number; errors: number; sumMs: number } | undefined;
  points: RedPoint[];
}

/** The key of a series: the process, then the row's kind, scope and name. */
function keyOf(target: string, row: Pick<RedRow, 'kind' | 'scope' | 'name'>): string {
  return `${target}\n${row.kind}\n${row.scope}\n${row.name}`;
}

/**
 * RED over the last minutes, per process and per method or consumer group: each sample of a
 * process's cumulative RED rows becomes one point per series (the difference with the previous
 * sample), kept in a bounded ring, so the Services view draws sparklines without a time-series
 * database. A counter that went down (the process restarted) starts the series again.
 */
export class RedHistory {
  private readonly capacity: number;
  private readonly series = new Map<string, Series>();
  /** When each target was last sampled. */
  private readonly sampledAt = new Map<string, number>();

  constructor(options: RedHistoryOptions = {}) {
    this.capacity = options.capacity ?? 60;
  }

  /** Records one sample of `target`'s cumulative rows, taken at `at` (ms since the epoch). */
  record(target: string, rows: readonly RedRow[], at: number): void {
    const before = this.sampledAt.get(target);
    this.sampledAt.set(target, at);
    for (const row of rows) {
      const key = keyOf(target, row);
      let s = this.series.get(key);
      if (!s) {
        // A histogram appears at its first observation: a series missing from the target's
        // previous sample was at zero then.
        s = {
          last: before === undefined ? undefined : { at: before, count: 0, errors: 0, sumMs: 0 },
          points: [],
        };
        this.series.set(key, s);
      }
      const now = { at, count: row.count, errors: row.errors, sumMs: row.meanMs * row.count };
      const prev = s.last;
      s.last = now;
      if (!prev || now.count < prev.count || at <= prev.at) {
        if (prev && now.count < prev.count) s.points = [];
        continue;
      }
      const seconds = (at - prev.at) / 1000;
      const calls = now.count - prev.count;
      s.points.push({
        at,
        rate: calls / seconds,
        errorRate: Math.max(0, now.errors - prev.errors) / seconds,
        meanMs: calls > 0 ? Math.max(0, now.sumMs - prev.sumMs) / calls : 0,
      });
      if (s.points.length > this.capacity) s.points.splice(0, s.points.length - this.capacity);
    }
  }

  /** The points of one series, oldest first (empty before two samples). */
  points(target: string, row: Pick<RedRow, 'kind' | 'scope' | 'name'>): readonly RedPoint[] {
    return this.series.get(keyOf(target, row))?.points ?? [];
  }
}
