/** RED figures of one method or one consumer group's event type, summed over statuses. */
export interface RedRow {
  /** `rpc` (a served method) or `event` (a consumer group's handler). */
  readonly kind: 'rpc' | 'event';
  /** The RPC service (`refront.tickets.v1.TicketsService`) or the consumer group. */
  readonly scope: string;
  /** The method or the event type. */
  readonly name: string;
  /** Runs seen since the process started. */
  readonly count: number;
  /** Runs that did not succeed (a call not `OK`; an event `retry` or `dead`, not `ack`). */
  readonly errors: number;
  /** Mean duration in ms. */
  readonly meanMs: number;
  /** 95th percentile in ms, from the histogram's buckets (its upper bound). */
  readonly p95Ms: number;
}

const FAMILIES = {
  refront_rpc_server_duration_seconds: { kind: 'rpc', scope: 'rpc_service', name: 'rpc_method' },
  refront_event_handler_duration_seconds: { kind: 'event', scope: 'group', name: 'event_type' },
} as const;

type Family = keyof typeof FAMILIES;

/** The statuses of a success: `OK` for a served call, `ack` for a handled event. */
const SUCCESS = new Set(['OK', 'ack']);

interface Acc {
  count: number;
  errors: number;
  sum: number;
  buckets: Map<number, number>;
}

/**
 * The RED rows of a Prometheus text exposition (`/metrics`): Refront's two RED histograms,
 * `refront_rpc_server_duration_seconds{rpc_service,rpc_method,status}` and
 * `refront_event_handler_duration_seconds{group,event_type,status}`, summed over status.
 * Only their `_bucket`, `_sum` and `_count` lines are read; every other line is skipped.
 */
export function redRows(exposition: string): RedRow[] {
  const acc = new Map<string, { family: Family; scope: string; name: string; acc: Acc }>();
  for (const line of exposition.split('\n')) {
    if (line.startsWith('#') || !line.startsWith('refront_')) continue;
    const sample = parseSample(line);
    if (!sample) continue;
    const m = /^(.*)_(bucket|sum|count)$/.exec(sample.name);
    if (!m || !((m[1] as string) in FAMILIES)) continue;
    const family = m[1] as Family;
    const f = FAMILIES[family];
    const scope = sample.labels[f.scope] ?? '';
    const name = sample.labels[f.name] ?? '';
    const key = `${family}|${scope}|${name}`;
    let row = acc.get(key);
    if (!row) {
      row = { family, scope, name, acc: { count: 0, errors: 0, sum: 0, buckets: new Map() } };
      acc.set(key, row);
    }
    const part = m[2];
    if (part === 'count') {
      row.acc.count += sample.value;
      if (!SUCCESS.has(sample.labels.status ?? '')) row.acc.errors += sample.value;
    } else if (part === 'sum') {
      row.acc.sum += sample.value;
    } else {
      const le = sample.labels.le === '+Inf' ? Number.POSITIVE_INFINITY : Number(sample.labels.le);
      row.acc.buckets.set(le, (row.acc.buckets.get(le) ?? 0) + sample.value);
    }
  }
  return [...acc.values()]
    .map(({ family, scope, name, acc: a }) => ({
      kind: FAMILIES[family].kind,
      scope,
      name,
      count: a.count,
      errors: a.errors,
      meanMs: a.count === 0 ? 0 : (a.sum / a.count) * 1000,
      p95Ms: quantileMs(a.buckets, a.count, 0.95),
    }))
    .sort(
      (x, y) =>
        x.kind.localeCompare(y.kind) || x.scope.localeCompare(y.scope) || x.name.localeCompare(y.name),
    );
}

/** The upper bound of the first bucket holding the quantile (buckets are cumulative). */
function quantileMs(buckets: Map<number, number>, count: number, q: number): number {
  if (count === 0) return 0;
  const target = count * q;
  const bounds = [...buckets.keys()].sort((a, b) => a - b);
  for (const le of bounds) {
    if ((buckets.get(le) ?? 0) >= target)
      return Number.isFinite(le) ? le * 1000 : (bounds.at(-2) ?? 0) * 1000;
  }
  return 0;
}

/** One sample line: `name{a="x",b="y"} value [timestamp]`, label values unescaped. */
function parseSample(
  line: string,
): { name: string; labels: Record<string, string>; value: number } | undefined {
  const brace = line.indexOf('{');
  const space = line.indexOf(' ');
  const labels: Record<string, string> = {};
  let rest: string;
  let name: string;
  if (brace >= 0 && (space < 0 || brace < space)) {
    name = line.slice(0, brace);
    const re = /\s*([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"\s*,?/y;
    let i = brace + 1;
    for (;;) {
      if (line[i] === '}') break;
      re.lastIndex = i;
      const m = re.exec(line);
      if (!m) return undefined;
      labels[m[1] as string] = (m[2] as string).replace(/\\(["\\n])/g, (_, c: string) =>
        c === 'n' ? '\n' : c,
      );
      i = re.lastIndex;
    }
    rest = line.slice(i + 1).trim();
  } else {
    if (space < 0) return undefined;
    name = line.slice(0, space);
    rest = line.slice(space + 1).trim();
  }
  const value = Number(rest.split(' ')[0]);
  return Number.isNaN(value) ? undefined : { name, labels, value };
}
