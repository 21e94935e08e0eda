import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { createRequestContext, currentContext, on, runWithContext, setupTracing } from '@refront/core';
import { ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { infraAvailable, logger, testBus, until } from './testing/broker.js';

const up = await infraAvailable('rabbitmq');

describe.skipIf(!up)('AMQP event bus: trace context (real RabbitMQ)', () => {
  it("carries traceparent in AMQP headers: the consumer span continues the producer's trace", async () => {
    const exporter = new InMemorySpanExporter();
    const tracing = await setupTracing({ serviceName: 'amqp-test', exporter, simple: true });
    try {
      await using bus = testBus();
      let consumerTrace = '';
      let header: string | undefined;
      await bus.subscribe('traced', [
        on(ThingHappened, async (_e, ctx) => {
          header = ctx.envelope.traceparent;
          consumerTrace = currentContext()?.traceId ?? '';
        }),
      ]);
      const ctx = createRequestContext({
        service: 'gateway',
        logger,
        parent: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), traceFlags: 1, isRemote: true },
      });
      await runWithContext(ctx, () => bus.publish(ThingHappened, { id: 'traced-1' }));
      await until(() => consumerTrace !== '');
      expect(header).toMatch(/^00-a{32}-[0-9a-f]{16}-01$/);
      expect(consumerTrace).toBe('a'.repeat(32));
      const span = exporter.getFinishedSpans().find((s) => s.name === 'traced process');
      expect(span?.spanContext().traceId).toBe('a'.repeat(32));
      expect(
        span?.parentSpanContext?.spanId ?? (span as unknown as { parentSpanId?: string }).parentSpanId,
      ).toBe(header!.split('-')[2]);
      // The header is the event's own producer span, under the publisher's; the consumer links it.
      const producer = exporter.getFinishedSpans().find((s) => s.name === `create ${ThingHappened.$type}`);
      expect(producer?.kind).toBe(3); // SpanKind.PRODUCER
      expect(producer?.spanContext().spanId).toBe(header!.split('-')[2]);
      expect(producer?.parentSpanContext?.spanId).toBe('b'.repeat(16));
      expect(span?.links.map((l) => l.context.spanId)).toEqual([producer?.spanContext().spanId]);
    } finally {
      await tracing.shutdown();
    }
  });
});
