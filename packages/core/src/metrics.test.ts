import { describe, expect, it } from 'vitest';
import { counterOf, createMetricsRegistry } from './metrics.js';

describe('createMetricsRegistry', () => {
  it('collects process metrics whose names follow Prometheus conventions: only counters end in _total', async () => {
    const registry = createMetricsRegistry({ defaultLabels: { service: 'tickets' } });
    const metrics = await registry.getMetricsAsJSON();
    const names = metrics.map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining(['process_cpu_seconds_total', 'nodejs_eventloop_lag_seconds']),
    );
    const misnamed = metrics
      .filter((m) => m.name.endsWith('_total') && String(m.type) !== 'counter')
      .map((m) => m.name);
    expect(misnamed).toEqual([]);
    expect(names).toContain('nodejs_active_handles');
  });

  it('collects no process metrics when processMetrics is false', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    expect(await registry.getMetricsAsJSON()).toEqual([]);
  });

  it('gives every caller of counterOf the one counter a registry holds under that name', async () => {
    const registry = createMetricsRegistry({ processMetrics: false });
    const a = counterOf(registry, 'refront_things_total', 'Things', ['kind']);
    const b = counterOf(registry, 'refront_things_total', 'Things', ['kind']);
    a.inc({ kind: 'x' });
    b.inc({ kind: 'x' });
    expect(b).toBe(a);
    expect((await registry.getSingleMetricAsString('refront_things_total')).split('\n')).toContain(
      'refront_things_total{kind="x"} 2',
    );
  });
});
