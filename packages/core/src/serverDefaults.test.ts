import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { describe, expect, it, vi } from 'vitest';
import { createDispatcher } from './Dispatcher.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry, type MetricsRegistry } from './metrics.js';
import { serverDefaultsInterceptor } from './serverDefaults.js';
import { echoImplementation, sleepObservations } from './testing/echo.js';
import { useInMemoryTracing } from './testing/inMemoryTracing.js';

const logger = createLogger({ service: 'echo', level: 'silent' });
const PATH = (m: string) => `/${EchoServiceDefinition.fullName}/${m}`;
const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const TRACEPARENT = `00-${TRACE_ID}-b7ad6b7169203331-01`;

/**
 * The two ways a server runs the default chain: fused into the Dispatcher, and as the
 * interceptor a server with `defaultInterceptors: false` puts in its own chain. Both must do the
 * same (they share one implementation).
 */
const forms = {
  'fused into the Dispatcher': (metrics: MetricsRegistry) =>
    createDispatcher({ service: 'echo', logger, metrics, system: 'test' }),
  'the interceptor form': (metrics: MetricsRegistry) =>
    createDispatcher({
      service: 'echo',
      logger,
      system: 'test',
      defaultInterceptors: false,
      interceptors: [serverDefaultsInterceptor({ service: 'echo', logger, metrics, system: 'test' })],
    }),
};

describe('the default server chain', () => {
  // One tracing setup for both forms: OpenTelemetry's global provider is registered once.
  const exporter = useInMemoryTracing();

  describe.each(Object.entries(forms))('%s', (_name, make) => {
    it('serves inside a request context with a SERVER span child of the traceparent, and RED metrics', async () => {
      const metrics = createMetricsRegistry({ processMetrics: false });
      const d = make(metrics);
      d.add(EchoServiceDefinition, echoImplementation);
      exporter.reset();
      const res = await d.invoke(PATH('Echo'), {
        request: { message: 'hi' },
        metadata: { 'x-refront-caller': 'gateway', 'x-refront-tenant': 'acme', traceparent: TRACEPARENT },
        deadline: Date.now() + 5_000,
      });
      expect(res).toMatchObject({
        message: 'hi',
        seen: { caller: 'gateway', tenant: 'acme', traceId: TRACE_ID, hasDeadline: 'true' },
      });
      const [span] = exporter.getFinishedSpans();
      expect(span).toMatchObject({ kind: SpanKind.SERVER, name: `${EchoServiceDefinition.fullName}/Echo` });
      expect(span!.spanContext().traceId).toBe(TRACE_ID);
      expect(span!.attributes['refront.tenant']).toBe('acme');
      expect(await metrics.metrics()).toMatch(
        /refront_rpc_server_duration_seconds_count\{[^}]*rpc_method="Echo"[^}]*status="OK"[^}]*\} 1/,
      );
    });

    it('ends the call at its deadline: the handler signal aborts and the caller gets DEADLINE_EXCEEDED', async () => {
      const metrics = createMetricsRegistry({ processMetrics: false });
      const d = make(metrics);
      d.add(EchoServiceDefinition, echoImplementation);
      const before = sleepObservations.length;
      await expect(
        d.invoke(PATH('Sleep'), { request: { durationMs: 60_000 }, metadata: {}, deadline: Date.now() + 30 }),
      ).rejects.toMatchObject({ status: 'DEADLINE_EXCEEDED' });
      // The caller's rejection and the handler's abort are separate events: wait for the handler to
      // record what it saw rather than for a fixed time (a 5 ms sleep failed once under load).
      await vi.waitFor(() => expect(sleepObservations[before]).toMatchObject({ aborted: true }));
      expect(await metrics.metrics()).toMatch(
        /refront_rpc_server_duration_seconds_count\{[^}]*rpc_method="Sleep"[^}]*status="DEADLINE_EXCEEDED"[^}]*\} 1/,
      );
    });

    it('turns an unexpected throw into INTERNAL naming the trace, seen so by the span and the metrics', async () => {
      const metrics = createMetricsRegistry({ processMetrics: false });
      const d = make(metrics);
      d.add(EchoServiceDefinition, echoImplementation);
      exporter.reset();
      const failed = d.invoke(PATH('Fail'), {
        request: { status: 'THROW_PLAIN' },
        metadata: { traceparent: TRACEPARENT },
        deadline: Date.now() + 5_000,
      });
      await expect(failed).rejects.toMatchObject({
        status: 'INTERNAL',
        message: `internal error (trace ${TRACE_ID})`,
      });
      const [span] = exporter.getFinishedSpans();
      expect(span!.status).toMatchObject({ code: SpanStatusCode.ERROR });
      expect(await metrics.metrics()).toMatch(
        /refront_rpc_server_duration_seconds_count\{[^}]*rpc_method="Fail"[^}]*status="INTERNAL"[^}]*\} 1/,
      );
    });
  });
});
