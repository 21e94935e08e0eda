import type { Registry } from 'prom-client';

/** Latency buckets in seconds, from 100 µs to 10 s. */
export const DEFAULT_LATENCY_BUCKETS: readonly number[] = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
];

/** One label set of a {@link RedHistogram}: observing is an array increment, no hashing. */
export interface HistogramSeries {
  /** Records one value (seconds for latencies). */
  observe(value: number): void;
}

class Series implements HistogramSeries {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(
    readonly labels: Readonly<Record<string, string>>,
    private readonly bounds: readonly number[],
  ) {
    this.counts = new Float64Array(bounds.length);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    for (let i = 0; i < bounds.length; i++) {
      if (value <= bounds[i]!) {
        this.counts[i]!++;
        break;
      }
    }
    this.sum += value;
    this.count++;
  }
}

/**
 * A Prometheus histogram for hot paths, registered in a prom-client registry and exported in
 * the same text format. prom-client's own `observe()` validates and hashes labels on every call
 * (about 1 µs); here each label set is resolved once into a series and observing is a few
 * array operations. See docs/decisions/0006-metrics-hot-path.md.
 */
export class RedHistogram {
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private readonly series = new Map<string, Series>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
    private readonly bounds: readonly number[] = DEFAULT_LATENCY_BUCKETS,
  ) {}

  /** The series of one label set, created once. */
  child(labels: Readonly<Record<string, string>>): HistogramSeries {
    const key = this.labelNames.map((n) => labels[n] ?? '').join('\u0000');
    let s = this.series.get(key);
    if (!s) {
      s = new Series(labels, this.bounds);
      this.series.set(key, s);
    }
    return s;
  }

  /** prom-client's metric protocol: the values to export. */
  async get(): Promise<{
    name: string;
    help: string;
    type: string;
    aggregator: string;
    values: { labels: Record<string, string | number>; value: number; metricName: string }[];
  }> {
    const values: { labels: Record<string, string | number>; value: number; metricName: string }[] = [];
    for (const s of this.series.values()) {
      let acc = 0;
      for (let i = 0; i < this.bounds.length; i++) {
        acc += s.counts[i]!;
        values.push({
          labels: { ...s.labels, le: this.bounds[i]! },
          value: acc,
          metricName: `${this.name}_bucket`,
        });
      }
      values.push({ labels: { ...s.labels, le: '+Inf' }, value: s.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...s.labels }, value: s.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...s.labels }, value: s.count, metricName: `${this.name}_count` });
    }
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Clears every series (prom-client's `resetMetrics()`). */
  reset(): void {
    this.series.clear();
  }
}

/**
 * Returns the {@link RedHistogram} `name` of `registry`, registering it once.
 *
 * @example
 * const h = redHistogramOf(registry, 'refront_rpc_server_duration_seconds', 'RPC latency', ['rpc_method', 'status']);
 * h.child({ rpc_method: 'Echo', status: 'OK' }).observe(0.0004);
 */
export function redHistogramOf(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
): RedHistogram {
  const existing = registry.getSingleMetric(name) as unknown;
  if (existing instanceof RedHistogram) return existing;
  const h = new RedHistogram(name, help, labelNames);
  registry.registerMetric(h as never);
  return h;
}
