import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { EchoServiceDefinition, ThingHappened } from '@refront/test-contracts';
import { describe, expect, it, vi } from 'vitest';
import { createRequestContext, currentContext, runWithContext } from './context.js';
import { createClient } from './createClient.js';
import { on } from './events.js';
import { createInProcessEventBus } from './InProcessEventBus.js';
import { createInProcessNetwork } from './InProcessNetwork.js';
import { createLogger } from './logger.js';
import { echoImplementation } from './testing/echo.js';
import { parseTraceparent } from './trace.js';

type Line = Record<string, unknown>;

function capture(service: string) {
  const lines: Line[] = [];
  const logger = createLogger({
    service,
    version: '2.3.4',
    level: 'info',
    destination: { write: (l: string) => void lines.push(JSON.parse(l) as Line) },
  });
  return { lines, logger };
}

describe('HandlerContext.logger', () => {
  it('logs with the service, its version, the method and the call’s trace and server span', async () => {
    const { lines, logger } = capture('echo');
    const network = createInProcessNetwork();
    const server = network.createServer({ service: 'echo', logger });
    let serverSpanId = '';
    server.add(EchoServiceDefinition, {
      ...echoImplementation,
      async echo(req, ctx) {
        serverSpanId = currentContext()?.spanId ?? '';
        ctx.logger.info({ size: req.message.length }, 'echoing');
        return { message: req.message };
      },
    });
    await server.start();
    try {
      const client = createClient(EchoServiceDefinition, network.channel(), { caller: 'tester' });
      const parent = parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01');
      const ctx = createRequestContext({ service: 'tester', logger, tenant: 'acme', parent });
      await runWithContext(ctx, () => client.echo({ message: 'hi' }));
    } finally {
      await server.close();
    }
    const echoed = lines.filter((l) => l.msg === 'echoing');
    expect(echoed).toHaveLength(1);
    expect(echoed[0]).toMatchObject({
      service: 'echo',
      version: '2.3.4',
      method: '/refront.testing.v1.EchoService/Echo',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
      span_id: serverSpanId,
      tenant: 'acme',
      size: 2,
    });
    // The server span is the call's own: neither empty nor the caller's.
    expect(serverSpanId).toMatch(/^[0-9a-f]{16}$/);
    expect(serverSpanId).not.toBe('00f067aa0ba902b7');
  });
});

describe('an HTTP entry point of the application', () => {
  it('puts the request, the call it makes and the event the handler publishes in one trace', async () => {
    const { lines, logger } = capture('api');
    const network = createInProcessNetwork();
    const bus = createInProcessEventBus({ service: 'api', logger });
    const seen: string[] = [];
    await bus.subscribe('audit', [
      on(ThingHappened, async (_event, ectx) => {
        seen.push(currentContext()?.traceId ?? '');
        ectx.logger.info('audited');
      }),
    ]);
    const server = network.createServer({ service: 'echo', logger });
    server.add(EchoServiceDefinition, {
      ...echoImplementation,
      async echo(req, ctx) {
        ctx.logger.info('served');
        await bus.publish(ThingHappened, { id: req.message, sequence: 1 });
        return { message: req.message };
      },
    });
    await server.start();
    const client = createClient(EchoServiceDefinition, network.channel(), { caller: 'api' });
    // No SDK, no instrumentation, no traceparent: a plain handler making its own context.
    const http: Server = createServer((_req, res) => {
      const ctx = createRequestContext({ service: 'api', logger });
      void runWithContext(ctx, async () => {
        logger.info('request');
        await client.echo({ message: 't-1' });
        await client.echo({ message: 't-2' });
        res.end(ctx.traceId);
      });
    });
    await new Promise<void>((r) => http.listen(0, '127.0.0.1', r));
    try {
      const { port } = http.address() as AddressInfo;
      const traceId = await (await fetch(`http://127.0.0.1:${port}/`)).text();
      await vi.waitFor(() => expect(seen).toHaveLength(2));
      expect(traceId).toMatch(/^[0-9a-f]{32}$/);
      const traced = (msg: string) => lines.filter((l) => l.msg === msg).map((l) => l.trace_id);
      expect(traced('request')).toEqual([traceId]);
      expect(traced('served')).toEqual([traceId, traceId]);
      expect(traced('audited')).toEqual([traceId, traceId]);
      expect(seen).toEqual([traceId, traceId]);
    } finally {
      await new Promise((r) => http.close(r));
      await server.close();
      await bus.close();
    }
  });
});
