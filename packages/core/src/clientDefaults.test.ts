import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { EchoResponse, EchoServiceDefinition } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { clientDefaultsInterceptor } from './clientDefaults.js';
import { createRequestContext, runWithContext } from './context.js';
import { type Channel, type ClientMethod, createClient } from './createClient.js';
import { RefrontError } from './errors.js';
import type { Call } from './Interceptor.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry, type MetricsRegistry } from './metrics.js';
import type { Reply } from './Reply.js';
import { useInMemoryTracing } from './testing/inMemoryTracing.js';
import { parseTraceparent } from './trace.js';

type Answer = (call: Call<unknown>, reply: Reply) => void;

/**
 * The two ways a client runs the default chain: fused into the per-call object of a channel
 * with `send`, and as the interceptor a client with `defaultInterceptors: false` puts in its own
 * chain over `unary`. Both must do the same (they share one implementation).
 */
const forms = {
  'the send path': (answer: Answer, metrics: MetricsRegistry) => {
    const sent: Call<unknown>[] = [];
    const channel: Channel = {
      unary: () => Promise.reject(new Error('unary must not be used')),
      send: (_m: ClientMethod, call: Call<unknown>, reply: Reply) => {
        sent.push(call);
        answer(call, reply);
      },
    };
    return { sent, client: createClient(EchoServiceDefinition, channel, { caller: 'me', metrics }) };
  },
  'the interceptor form': (answer: Answer, metrics: MetricsRegistry) => {
    const sent: Call<unknown>[] = [];
    const channel: Channel = {
      unary: <Req, Res>(_m: ClientMethod<Req, Res>, call: Call<Req>) =>
        new Promise<Res>((ok, fail) => {
          sent.push(call as Call<unknown>);
          answer(call as Call<unknown>, { ok: ok as (r: unknown) => void, fail });
        }),
    };
    const client = createClient(EchoServiceDefinition, channel, {
      caller: 'ignored',
      defaultInterceptors: false,
      interceptors: [clientDefaultsInterceptor({ caller: 'me', metrics })],
    });
    return { sent, client };
  },
};

const logger = createLogger({ service: 't', level: 'silent' });

describe('the default client chain', () => {
  // One tracing setup for both forms: OpenTelemetry's global provider is registered once.
  const exporter = useInMemoryTracing();

  describe.each(Object.entries(forms))('%s', (_name, make) => {
    it('propagates the context, sends a traceparent, records a span and RED metrics', async () => {
      const metrics = createMetricsRegistry({ processMetrics: false });
      const { client, sent } = make(
        (_call, reply) => reply.ok(EchoResponse.fromPartial({ message: 'ok' })),
        metrics,
      );
      exporter.reset();
      const deadline = Date.now() + 1_000;
      const parent = parseTraceparent('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
      const ctx = createRequestContext({ service: 't', logger, deadline, tenant: 'acme', parent });
      await runWithContext(ctx, () => client.echo({ message: 'x' }, { timeoutMs: 5_000 }));
      const call = sent[0]!;
      expect(call.deadline).toBe(deadline);
      expect(call.metadata).toMatchObject({ 'x-refront-caller': 'me', 'x-refront-tenant': 'acme' });
      expect(call.metadata['x-refront-idempotency-key']).toMatch(/.+/);
      const spans = exporter.getFinishedSpans();
      expect(spans).toHaveLength(1);
      expect(spans[0]!.kind).toBe(SpanKind.CLIENT);
      expect(spans[0]!.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
      expect(call.metadata.traceparent).toContain(spans[0]!.spanContext().spanId);
      expect(await metrics.metrics()).toMatch(
        /refront_rpc_client_duration_seconds_count\{[^}]*rpc_method="Echo"[^}]*status="OK"[^}]*\} 1/,
      );
    });

    it('records the status of a failure on the span and the metrics, and rejects with the error itself', async () => {
      const metrics = createMetricsRegistry({ processMetrics: false });
      const error = new RefrontError('NOT_FOUND', 'ECHO_NONE', 'no such echo');
      const { client } = make((_call, reply) => reply.fail(error), metrics);
      exporter.reset();
      await expect(client.echo({ message: 'x' })).rejects.toBe(error);
      const [span] = exporter.getFinishedSpans();
      expect(span!.status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'NOT_FOUND ECHO_NONE' });
      expect(await metrics.metrics()).toMatch(
        /refront_rpc_client_duration_seconds_count\{[^}]*rpc_method="Echo"[^}]*status="NOT_FOUND"[^}]*\} 1/,
      );
    });

    it('refuses a call whose context deadline passed: nothing sent, no span, no metrics', async () => {
      const metrics = createMetricsRegistry({ processMetrics: false });
      const { client, sent } = make((_call, reply) => reply.ok({}), metrics);
      exporter.reset();
      const past = createRequestContext({ service: 't', logger, deadline: Date.now() - 1 });
      await expect(runWithContext(past, () => client.echo({ message: 'x' }))).rejects.toMatchObject({
        status: 'DEADLINE_EXCEEDED',
      });
      expect(sent).toHaveLength(0);
      expect(exporter.getFinishedSpans()).toHaveLength(0);
      expect(await metrics.metrics()).not.toMatch(/refront_rpc_client_duration_seconds_count\{/);
    });
  });
});
