import type { MetricsRegistry } from '@refront/core';
import { Counter } from 'prom-client';

const counters = new WeakMap<MetricsRegistry, Map<string, Counter<string>>>();

/**
 * Returns the counter `name` of `registry`, creating it once, so several policies can share one
 * registry without registering a metric twice (the counterpart of core's `histogramOf`).
 */
export function counterOf(
  registry: MetricsRegistry,
  name: string,
  help: string,
  labelNames: readonly string[],
): Counter<string> {
  let byName = counters.get(registry);
  if (!byName) {
    byName = new Map();
    counters.set(registry, byName);
  }
  let counter = byName.get(name);
  if (!counter) {
    const existing = registry.getSingleMetric(name);
    counter =
      existing instanceof Counter
        ? (existing as Counter<string>)
        : new Counter({ name, help, labelNames: [...labelNames], registers: [registry] });
    byName.set(name, counter);
  }
  return counter;
}
