import type { MetricsRegistry } from '@refront/core';

/** Labels a {@link MetricsReader} read must have (others may be there too). */
export type LabelMatch = Readonly<Record<string, string | number>>;

/**
 * Reads the app's prom-client registry, where every module, lane, outbox and policy of the app
 * records its metrics.
 *
 * @example
 * expect(await app.metrics.value('refront_rpc_server_requests_total', { method: 'CreateTicket' })).toBe(1);
 * expect(await app.metrics.value('refront_rpc_server_duration_seconds_count')).toBeGreaterThan(0);
 */
export interface MetricsReader {
  /** The registry itself (for `metrics()` text, or a metric's own API). */
  readonly registry: MetricsRegistry;
  /**
   * The sum of the series of `name` whose labels include `labels`: a counter's or gauge's value,
   * or a histogram's `_count`, `_sum` or `_bucket` series by that full name. 0 when the metric
   * does not exist yet (nothing recorded).
   */
  value(name: string, labels?: LabelMatch): Promise<number>;
}

const SUFFIX = /_(count|sum|bucket)$/;

/** A reader of `registry`. */
export function metricsReader(registry: MetricsRegistry): MetricsReader {
  return {
    registry,
    async value(name, labels = {}) {
      const metric = registry.getSingleMetric(name) ?? registry.getSingleMetric(name.replace(SUFFIX, ''));
      if (!metric) return 0;
      const { values } = await metric.get();
      let sum = 0;
      for (const v of values) {
        if (((v as { metricName?: string }).metricName ?? name) !== name) continue;
        const l = v.labels as Record<string, string | number | undefined>;
        if (Object.entries(labels).every(([k, want]) => String(l[k]) === String(want))) sum += v.value;
      }
      return sum;
    },
  };
}
