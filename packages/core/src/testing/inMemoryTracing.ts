import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll } from 'vitest';
import { setupTracing, type TracingHandle } from '../setupTracing.js';

/**
 * Registers real OpenTelemetry tracing for the enclosing `describe` (set up before its tests,
 * shut down after) and returns the exporter that collects its finished spans. Test-only.
 *
 * @example
 * describe('tracing', () => {
 *   const exporter = useInMemoryTracing();
 *   it('makes a span', async () => { exporter.reset(); … expect(exporter.getFinishedSpans()).toHaveLength(1); });
 * });
 */
export function useInMemoryTracing(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  let tracing: TracingHandle | undefined;
  beforeAll(async () => {
    tracing = await setupTracing({ serviceName: 'test', exporter, simple: true });
  });
  afterAll(async () => {
    await tracing?.shutdown();
  });
  return exporter;
}
