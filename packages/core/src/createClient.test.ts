import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { EchoResponse, EchoServiceDefinition } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { createRequestContext, runWithContext } from './context.js';
import { type Channel, type ClientMethod, createClient } from './createClient.js';
import { RefrontError } from './errors.js';
import type { Call } from './Interceptor.js';
import { createLogger } from './logger.js';
import { createMetricsRegistry } from './metrics.js';
import type { Reply } from './Reply.js';
import { useInMemoryTracing } from './testing/inMemoryTracing.js';

/** A channel with `send` that answers as `answer` says, and records what it was sent. */
function sendChannel(answer: (call: Call<unknown>, reply: Reply) => void) {
  const sent: Call<unknown>[] = [];
  let unaryCalls = 0;
  const channel: Channel = {
    unary: () => {
      unaryCalls++;
      return Promise.resolve(EchoResponse.fromPartial({ message: 'unary' }) as never);
    },
    send: (_method: ClientMethod, call: Call<unknown>, reply: Reply) => {
      sent.push(call);
      answer(call, reply);
    },
  };
  return { channel, sent, unaryCalls: () => unaryCalls };
}

const echoBack = (call: Call<unknown>, reply: Reply): void => {
  const { message } = call.request as { message: string };
  setImmediate(() => reply.ok(EchoResponse.fromPartial({ message })));
};

describe('createClient over a channel with send', () => {
  const exporter = useInMemoryTracing();

  it('runs the defaults on the call it sends and settles the caller with the reply', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    const { channel, sent } = sendChannel(echoBack);
    const client = createClient(EchoServiceDefinition, channel, { caller: 'me', metrics, timeoutMs: 5_000 });
    exporter.reset();
    const before = Date.now();
    expect(await client.echo({ message: 'hi' }, { metadata: { 'x-k': 'v' } })).toMatchObject({
      message: 'hi',
    });
    const call = sent[0]!;
    expect(call.side).toBe('client');
    expect(call.method.path).toBe('/refront.testing.v1.EchoService/Echo');
    expect(call.metadata).toMatchObject({ 'x-k': 'v', 'x-refront-caller': 'me' });
    expect(call.metadata.traceparent).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/);
    expect(call.deadline).toBeGreaterThanOrEqual(before + 5_000);
    const spans = exporter.getFinishedSpans();
    expect(spans).toHaveLength(1);
    expect(spans[0]!.kind).toBe(SpanKind.CLIENT);
    expect(call.metadata.traceparent).toContain(spans[0]!.spanContext().spanId);
    expect(await metrics.metrics()).toMatch(
      /refront_rpc_client_duration_seconds_count\{[^}]*rpc_method="Echo"[^}]*status="OK"[^}]*\} 1/,
    );
  });

  it('rejects with the error the channel reports, recording its status on the span and the metrics', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    const error = new RefrontError('NOT_FOUND', 'ECHO_NONE', 'no such echo');
    const { channel } = sendChannel((_call, reply) => reply.fail(error));
    const client = createClient(EchoServiceDefinition, channel, { caller: 'me', metrics });
    exporter.reset();
    await expect(client.echo({ message: 'x' })).rejects.toBe(error);
    expect(exporter.getFinishedSpans()[0]!.status.code).toBe(SpanStatusCode.ERROR);
    expect(await metrics.metrics()).toMatch(
      /refront_rpc_client_duration_seconds_count\{[^}]*rpc_method="Echo"[^}]*status="NOT_FOUND"[^}]*\} 1/,
    );
  });

  it('settles the caller when the channel replies before send returns, or throws', async () => {
    const now = sendChannel((_call, reply) => reply.ok(EchoResponse.fromPartial({ message: 'now' })));
    const client = createClient(EchoServiceDefinition, now.channel, { caller: 'me' });
    expect(await client.echo({ message: 'x' })).toMatchObject({ message: 'now' });
    const thrown = new Error('broken channel');
    const throwing = sendChannel(() => {
      throw thrown;
    });
    const broken = createClient(EchoServiceDefinition, throwing.channel, { caller: 'me' });
    await expect(broken.echo({ message: 'x' })).rejects.toBe(thrown);
  });

  it('refuses a call whose context deadline passed without sending it, and takes the earlier deadline', async () => {
    const { channel, sent } = sendChannel(echoBack);
    const client = createClient(EchoServiceDefinition, channel, { caller: 'me' });
    const logger = createLogger({ service: 't', level: 'silent' });
    const past = createRequestContext({ service: 't', logger, deadline: Date.now() - 1 });
    await expect(runWithContext(past, () => client.echo({ message: 'x' }))).rejects.toMatchObject({
      status: 'DEADLINE_EXCEEDED',
    });
    expect(sent).toHaveLength(0);
    const soon = Date.now() + 1_000;
    const ctx = createRequestContext({ service: 't', logger, deadline: soon, tenant: 'acme' });
    await runWithContext(ctx, () => client.echo({ message: 'x' }));
    expect(sent[0]!.deadline).toBe(soon);
    expect(sent[0]!.metadata['x-refront-tenant']).toBe('acme');
  });

  it('with the defaults off sends the bare call, with nothing added', async () => {
    const { channel, sent } = sendChannel(echoBack);
    const client = createClient(EchoServiceDefinition, channel, { caller: 'me', defaultInterceptors: false });
    expect(await client.echo({ message: 'bare' })).toMatchObject({ message: 'bare' });
    expect(sent[0]!.metadata).toEqual({});
  });

  it('uses unary when other interceptors run, so they see a promise per call as before', async () => {
    const seen: string[] = [];
    const { channel, sent, unaryCalls } = sendChannel(echoBack);
    const client = createClient(EchoServiceDefinition, channel, {
      caller: 'me',
      interceptors: [
        async (call, next) => {
          seen.push(call.metadata['x-refront-caller']!);
          return next(call);
        },
      ],
    });
    expect(await client.echo({ message: 'x' })).toMatchObject({ message: 'unary' });
    expect(seen).toEqual(['me']);
    expect(unaryCalls()).toBe(1);
    expect(sent).toHaveLength(0);
  });
});
