import { counterOf, type MetricsRegistry } from '@refront/core';
import { type Counter, Gauge } from 'prom-client';

/** The outbox metrics of one registry; shared by every outbox reporting to it. */
export interface OutboxMetrics {
  readonly published: Counter<'schema'>;
  readonly failures: Counter<'schema'>;
  /** Outboxes whose pending count the gauge reports at scrape time. */
  readonly sources: Map<string, () => Promise<number>>;
}

const byRegistry = new WeakMap<MetricsRegistry, OutboxMetrics>();

function counter(registry: MetricsRegistry, name: string, help: string): Counter<'schema'> {
  return counterOf(registry, name, help, ['schema']);
}

/** Returns the outbox metrics of `registry`, registering them once. */
export function outboxMetrics(registry: MetricsRegistry): OutboxMetrics {
  let m = byRegistry.get(registry);
  if (m) return m;
  const sources = new Map<string, () => Promise<number>>();
  m = {
    published: counter(registry, 'refront_outbox_published_total', 'Outbox events published by the relay'),
    failures: counter(
      registry,
      'refront_outbox_publish_failures_total',
      'Outbox relay passes that failed to publish',
    ),
    sources,
  };
  if (!registry.getSingleMetric('refront_outbox_pending')) {
    new Gauge({
      name: 'refront_outbox_pending',
      help: 'Outbox events stored but not yet published',
      labelNames: ['schema'],
      registers: [registry],
      async collect() {
        for (const [schema, pending] of sources) {
          try {
            this.set({ schema }, await pending());
          } catch {
            // The database is unreachable: keep the last value; readiness reports the outage.
          }
        }
      },
    });
  }
  byRegistry.set(registry, m);
  return m;
}
