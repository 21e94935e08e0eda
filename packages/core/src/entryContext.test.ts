import { SpanKind } from '@opentelemetry/api';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { createRequestContext, runWithContext } from './context.js';
import { createClient } from './createClient.js';
import { createInProcessNetwork } from './InProcessNetwork.js';
import { createLogger } from './logger.js';
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
