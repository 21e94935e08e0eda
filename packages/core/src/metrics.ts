import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { DEFAULT_LATENCY_BUCKETS, type HistogramSeries, type RedHistogram } from './RedHistogram.js';

/** A Prometheus metrics registry (prom-client). */
export type MetricsRegistry = Registry;

/** Options of {@link createMetricsRegistry}. */
export interface MetricsRegistryOptions {
  /** Labels added to every metric (`service`, `version`…). @default {} */
  readonly defaultLabels?: Readonly<Record<string, string>>;
  /**
   * Collect Node.js process metrics (event loop lag, heap, GC, active handles by type). The
   * `nodejs_active_*_total` gauges are left out: the `_total` suffix is for counters. @default true
   */
  readonly processMetrics?: boolean;
}

/**
 * Creates a prom-client registry for one process; the ops server exposes it at `/metrics`.
 *
 * @example
 * const metrics = createMetricsRegistry({ defaultLabels: { service: 'tickets' } });
 */
export function createMetricsRegistry(options: MetricsRegistryOptions = {}): MetricsRegistry {
  const registry = new Registry();
  if (options.defaultLabels) registry.setDefaultLabels({ ...options.defaultLabels });
  if (options.processMetrics ?? true) {
    collectDefaultMetrics({ register: registry });
    // prom-client names three gauges `*_total`, which Prometheus reserves for counters (promtool
    // check metrics fails on them). Each is the sum of its by-type gauge, which stays.
    for (const name of MISNAMED_GAUGES) registry.removeSingleMetric(name);
  }
  return registry;
}

/** prom-client's default gauges that carry a counter's `_total` suffix. */
const MISNAMED_GAUGES = [
  'nodejs_active_handles_total',
  'nodejs_active_requests_total',
  'nodejs_active_resources_total',
] as const;

const histograms = new WeakMap<Registry, Map<string, Histogram<string>>>();

/**
 * Returns the histogram `name` of `registry`, creating it once: RED metrics need one histogram
 * (rate = count, errors = count by status, duration = buckets) per side and kind of work.
 *
 * @example
 * const h = histogramOf(registry, 'refront_rpc_server_duration_seconds', 'RPC server latency', ['rpc_service', 'rpc_method', 'status']);
 */
export function histogramOf(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly string[],
): Histogram<string> {
  let byName = histograms.get(registry);
  if (!byName) {
    byName = new Map();
    histograms.set(registry, byName);
  }
  let h = byName.get(name);
  if (!h) {
    const existing = registry.getSingleMetric(name);
    h =
      existing instanceof Histogram
        ? (existing as Histogram<string>)
        : new Histogram({
            name,
            help,
            labelNames,
            buckets: [...DEFAULT_LATENCY_BUCKETS],
            registers: [registry],
          });
    byName.set(name, h);
  }
  return h;
}

/**
 * Returns the counter `name` of `registry`, creating it the first time: several components (two
 * inboxes, two policies) can share one registry without registering a metric twice.
 *
 * @example
 * const replays = counterOf(registry, 'refront_idempotent_replays_total', 'Replayed calls', ['method']);
 * replays.inc({ method: 'CreateTicket' });
 */
export function counterOf<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
): Counter<L> {
  const existing = registry.getSingleMetric(name);
  if (existing instanceof Counter) return existing as Counter<L>;
  return new Counter<L>({ name, help, labelNames: [...labelNames], registers: [registry] });
}

/** A RED recorder for one operation: records each finished one with its status and duration. */
export interface RedRecorder {
  /** Records one finished operation with its status (`OK` or a status name). */
  observe(status: string, seconds: number): void;
}

/**
 * A RED recorder for one fixed set of labels (one method, one event type), with the series
 * cached per status, so the hot path does no label hashing.
 */
export function redRecorder(histogram: RedHistogram, labels: Readonly<Record<string, string>>): RedRecorder {
  const children = new Map<string, HistogramSeries>();
  return {
    observe(status, seconds) {
      let child = children.get(status);
      if (!child) {
        child = histogram.child({ ...labels, status });
        children.set(status, child);
      }
      child.observe(seconds);
    },
  };
}
