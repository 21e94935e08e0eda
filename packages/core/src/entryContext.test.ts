import { SpanKind, TraceFlags } from '@opentelemetry/api';
import {
  InMemorySpanExporter,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { createRequestContext, runWithContext } from './context.js';
import { createClient } from './createClient.js';
import { createInProcessNetwork } from './InProcessNetwork.js';
import { createLogger } from './logger.js';
import { setupTracing } from './setupTracing.js';
import { echoImplementation } from './testing/echo.js';
import { useInMemoryTracing } from './testing/inMemoryTracing.js';

const logger = createLogger({ service: 'api', level: 'silent' });

describe('a context an entry point makes, with tracing set up', () => {
  const exporter = useInMemoryTracing();

  it('has its calls traced under its own trace id (its root is sampled, so the parent-based sampler keeps them)', async () => {
    const network = createInProcessNetwork();
    const server = network.createServer({ service: 'echo', logger });
    server.add(EchoServiceDefinition, echoImplementation);
    await server.start();
    const client = createClient(EchoServiceDefinition, network.channel(), { caller: 'api' });
    exporter.reset();
    const ctx = createRequestContext({ service: 'api', logger });
    await runWithContext(ctx, () => client.echo({ message: 'one' }));
    await server.close();
    const spans = exporter.getFinishedSpans().filter((s) => s.name.endsWith('EchoService/Echo'));
    expect(spans.map((s) => s.kind).sort()).toEqual([SpanKind.SERVER, SpanKind.CLIENT].sort());
    for (const s of spans) expect(s.spanContext().traceId).toBe(ctx.traceId);
  });
});

describe('a context an entry point makes, under a ratio sampler', () => {
  const traced = async (ratio: number) => {
    const exporter = new InMemorySpanExporter();
    const sampler = new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(ratio) });
    const tracing = await setupTracing({ serviceName: 'api', exporter, simple: true, sampler });
    try {
      const network = createInProcessNetwork();
      const server = network.createServer({ service: 'echo', logger });
      server.add(EchoServiceDefinition, echoImplementation);
      await server.start();
      const client = createClient(EchoServiceDefinition, network.channel(), { caller: 'api' });
      const contexts = Array.from({ length: 20 }, () => createRequestContext({ service: 'api', logger }));
      for (const ctx of contexts) await runWithContext(ctx, () => client.echo({ message: 'one' }));
      await server.close();
      return { spans: exporter.getFinishedSpans(), contexts };
    } finally {
      await tracing.shutdown();
    }
  };

  it('is thinned by the sampler: ratio 0 records none of its calls, and says so in its trace flags', async () => {
    const { spans, contexts } = await traced(0);
    expect(spans).toHaveLength(0);
    for (const ctx of contexts) expect(ctx.spanContext?.traceFlags).toBe(TraceFlags.NONE);
  });

  it('is recorded whole at ratio 1, under its own trace id, without a span of the probe', async () => {
    const { spans, contexts } = await traced(1);
    expect(spans).toHaveLength(40);
    expect(spans.some((s) => s.name === 'refront.entry')).toBe(false);
    expect(new Set(spans.map((s) => s.spanContext().traceId))).toEqual(
      new Set(contexts.map((c) => c.traceId)),
    );
  });
});
