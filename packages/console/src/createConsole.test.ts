import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, SimpleSpanProcessor, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { createInProcessEventBus, createLogger, on } from '@refront/core';
import { ThingHappened } from '@refront/test-contracts';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsole, type RefrontConsole } from './createConsole.js';
import { inProcessDeadLetters } from './deadLetters.js';

const logger = createLogger({ service: 'console-test', level: 'silent' });
const running: RefrontConsole[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.close();
});

async function started(options: Parameters<typeof createConsole>[0]): Promise<RefrontConsole> {
  const c = createConsole({ enabled: true, port: 0, logger, ...options });
  running.push(c);
  await c.start();
  return c;
}

/**
 * Sends a small trace through the real OpenTelemetry SDK and `exporter`: a server span of
 * tickets, its client call, a consumer span of the `ai` group that links the producer.
 */
async function sendTrace(exporter: SpanExporter): Promise<string> {
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'refront-demo', 'service.version': '9.9.9' }),
    spanProcessors: [new SimpleSpanProcessor(exporter)],
  });
  const tracer = provider.getTracer('test');
  const server = tracer.startSpan('refront.tickets.v1.TicketsService/CreateTicket', {
    kind: SpanKind.SERVER,
    attributes: {
      'rpc.system': 'refront',
      'rpc.service': 'refront.tickets.v1.TicketsService',
      'rpc.method': 'CreateTicket',
      'refront.tenant': 'acme',
      'refront.ticket.id': 'ticket-42',
    },
  });
  const ctx = trace.setSpan(ROOT_CONTEXT, server);
  const client = tracer.startSpan('refront.ai.v1.AiService/Summarize', { kind: SpanKind.CLIENT }, ctx);
  client.end();
  const consumer = tracer.startSpan(
    'process refront.tickets.v1.TicketCreated',
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.consumer.group.name': 'ai', 'refront.event.attempt': 1 },
      links: [{ context: server.spanContext() }],
    },
    ctx,
  );
  consumer.setStatus({ code: SpanStatusCode.ERROR, message: 'provider down' });
  consumer.end();
  server.end();
  await provider.forceFlush();
  await provider.shutdown();
  return server.spanContext().traceId;
}

describe('createConsole: OTLP/HTTP traces in, searchable traces out', () => {
  for (const [encoding, Exporter] of [
    ['protobuf', OtlpProtoExporter],
    ['JSON', OtlpJsonExporter],
  ] as const) {
    it(`stores the spans an OpenTelemetry SDK exports in ${encoding}, each with its service`, async () => {
      const c = await started({ development: true });
      const traceId = await sendTrace(new Exporter({ url: c.tracesUrl }));
      const res = await fetch(`${c.url}/api/traces/${traceId}`);
      expect(res.status).toBe(200);
      const body = (await res.json()) as {
        spans: {
          name: string;
          kind: string;
          service: string;
          parentSpanId?: string;
          spanId: string;
          status: { code: string };
          attributes: Record<string, unknown>;
          resource: Record<string, unknown>;
          links: { spanId: string }[];
        }[];
      };
      const byName = new Map(body.spans.map((s) => [s.name, s]));
      const server = byName.get('refront.tickets.v1.TicketsService/CreateTicket');
      const client = byName.get('refront.ai.v1.AiService/Summarize');
      const consumer = byName.get('process refront.tickets.v1.TicketCreated');
      expect(body.spans).toHaveLength(3);
      expect(server).toMatchObject({ kind: 'server', service: 'tickets' });
      expect(server?.parentSpanId).toBeUndefined();
      expect(server?.attributes).toMatchObject({ 'refront.tenant': 'acme', 'rpc.method': 'CreateTicket' });
      expect(server?.resource).toMatchObject({ 'service.name': 'refront-demo', 'service.version': '9.9.9' });
      // A client span runs in its caller's service; a consumer span in its group.
      expect(client).toMatchObject({ kind: 'client', service: 'tickets', parentSpanId: server?.spanId });
      expect(consumer).toMatchObject({ kind: 'consumer', service: 'ai', status: { code: 'error' } });
      expect(consumer?.attributes['refront.event.attempt']).toBe(1);
      expect(consumer?.links.map((l) => l.spanId)).toEqual([server?.spanId]);

      const search = async (q: string) =>
        (
          (await (await fetch(`${c.url}/api/traces?${q}`)).json()) as { traces: { traceId: string }[] }
        ).traces.map((t) => t.traceId);
      expect(await search('q=ticket-42')).toEqual([traceId]);
      expect(await search('tenant=acme&error=true')).toEqual([traceId]);
      expect(await search('tenant=initech')).toEqual([]);
      expect(await search('q=no-such-ticket')).toEqual([]);
    });
  }

  it('answers 400 CONSOLE_BAD_OTLP for a body that is not OTLP, and 404 for an unknown trace', async () => {
    const c = await started({ development: true });
    const bad = await fetch(`${c.tracesUrl}`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: new Uint8Array([0xff, 0xff, 0xff, 0xff]),
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { reason: string } }).error.reason).toBe('CONSOLE_BAD_OTLP');
    const missing = await fetch(`${c.url}/api/traces/${'a'.repeat(32)}`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { reason: string } }).error.reason).toBe(
      'CONSOLE_TRACE_NOT_FOUND',
    );
    expect(c.store.size).toBe(0);
  });
});

describe('createConsole: off unless enabled, and protected outside development', () => {
  it('serves nothing when not enabled', async () => {
    const c = createConsole({ port: 0 });
    await c.start();
    expect(c.enabled).toBe(false);
    expect(c.url).toBeUndefined();
  });

  it('refuses to start outside development without a token', () => {
    expect(() => createConsole({ enabled: true, development: false })).toThrow(
      expect.objectContaining({ reason: 'CONSOLE_TOKEN_REQUIRED' }),
    );
  });

  it('answers 401 CONSOLE_UNAUTHORIZED to the API and the OTLP receiver without the token', async () => {
    const c = await started({ development: false, token: 's3cret-token' });
    for (const [path, init] of [
      ['/api/traces', {}],
      ['/api/dead-letters', {}],
      ['/v1/traces', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }],
    ] as const) {
      const none = await fetch(`${c.url}${path}`, init);
      expect(none.status).toBe(401);
      expect(((await none.json()) as { error: { reason: string } }).error.reason).toBe(
        'CONSOLE_UNAUTHORIZED',
      );
      const wrong = await fetch(`${c.url}${path}`, {
        ...init,
        headers: { ...('headers' in init ? init.headers : {}), authorization: 'Bearer s3cret-tokem' },
      });
      expect(wrong.status).toBe(401);
    }
    const ok = await fetch(`${c.url}/api/traces`, { headers: { authorization: 'Bearer s3cret-token' } });
    expect(ok.status).toBe(200);
    const traceId = await sendTrace(
      new OtlpJsonExporter({ url: c.tracesUrl, headers: { authorization: 'Bearer s3cret-token' } }),
    );
    expect(c.store.trace(traceId)?.spans).toHaveLength(3);
    // The page itself holds no data: it loads, and asks the API with the token.
    expect((await fetch(`${c.url}/`)).status).toBe(200);
    expect((await fetch(`${c.url}/vendor/preact.mjs`)).status).toBe(200);
  });
});

describe('createConsole: dead letters', () => {
  it('lists dead letters with reason, attempts and body; replays one after a fix; discards another', async () => {
    const bus = createInProcessEventBus({ service: 'console-test', logger });
    let broken = true;
    const handled: string[] = [];
    await bus.subscribe(
      'flaky',
      [
        on(ThingHappened, async (e) => {
          if (broken) throw new Error('the downstream is down');
          handled.push(e.id);
        }),
      ],
      { retryDelaysMs: [1] },
    );
    const c = await started({ development: true, deadLetters: inProcessDeadLetters(bus) });
    const first = await bus.publish(ThingHappened, { id: 'one', sequence: 1 });
    const second = await bus.publish(ThingHappened, { id: 'two', sequence: 2 });
    const list = async () =>
      (
        (await (await fetch(`${c.url}/api/dead-letters?group=flaky`)).json()) as {
          deadLetters: { eventId: string; reason: string; error: string; attempts: number; type: string }[];
        }
      ).deadLetters;
    await expect.poll(async () => (await list()).length).toBe(2);
    const [d] = await list();
    expect(d).toMatchObject({ eventId: first.id, attempts: 2, type: ThingHappened.$type });
    expect(d?.reason).toMatch(/^[A-Z_]+$/);
    expect(d?.error).toContain('the downstream is down');

    broken = false;
    const replayed = await fetch(`${c.url}/api/dead-letters/flaky/${first.id}/replay`, { method: 'POST' });
    expect(replayed.status).toBe(200);
    await expect.poll(() => handled).toEqual(['one']);
    const discarded = await fetch(`${c.url}/api/dead-letters/flaky/${second.id}/discard`, { method: 'POST' });
    expect(discarded.status).toBe(200);
    expect(await list()).toEqual([]);
    const again = await fetch(`${c.url}/api/dead-letters/flaky/${second.id}/replay`, { method: 'POST' });
    expect(again.status).toBe(404);
    expect(handled).toEqual(['one']);
    await bus.close();
  });
});

describe('createConsole: sources asked at each look', () => {
  it('reads the processes an async services function gives, and replays a group through replayAll when the source has it', async () => {
    const ops = await started({ development: true });
    // The function is asked at each look (the sparklines' sampler looks too, on its own timer).
    let targets: { name: string; opsUrl: string }[] = [];
    const replayed: string[] = [];
    const c = await started({
      development: true,
      services: async () => targets,
      deadLetters: {
        list: async () => [],
        replay: async () => {
          throw new Error('replayAll should have been used');
        },
        discard: async () => {},
        replayAll: async (group) => {
          replayed.push(group);
          return ['e1', 'e2'];
        },
      },
    });
    const get = async () =>
      (await (await fetch(`${c.url}/api/services`)).json()) as { services: { name: string }[] };
    expect((await get()).services).toEqual([]);
    targets = [{ name: 'console-itself', opsUrl: `${ops.url}/nowhere` }];
    expect((await get()).services.map((s) => s.name)).toEqual(['console-itself']);
    const res = await fetch(`${c.url}/api/dead-letters/ai/replay-all`, { method: 'POST' });
    expect(await res.json()).toEqual({ replayed: ['e1', 'e2'] });
    expect(replayed).toEqual(['ai']);
  });
});
