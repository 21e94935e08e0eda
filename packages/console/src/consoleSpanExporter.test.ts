import {
  type DiagLogger,
  DiagLogLevel,
  diag,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { OTLPTraceExporter as OtlpJsonExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { OTLPTraceExporter as OtlpProtoExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { createLogger, setupTracing } from '@refront/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsoleSpanExporter } from './consoleSpanExporter.js';
import { createConsole, type RefrontConsole } from './createConsole.js';
import type { SpanRecord } from './spans.js';
import { TraceStore } from './TraceStore.js';

const logger = createLogger({ service: 'console-test', level: 'silent' });
const running: RefrontConsole[] = [];
afterEach(async () => {
  for (const c of running.splice(0)) await c.close();
});

/** Finished spans of the real SDK: a server span, its client child, a consumer with a link, events. */
async function finishedSpans(): Promise<ReadableSpan[]> {
  const memory = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ 'service.name': 'refront-demo', 'service.version': '9.9.9' }),
    spanProcessors: [new SimpleSpanProcessor(memory)],
  });
  const tracer = provider.getTracer('test');
  const server = tracer.startSpan('refront.tickets.v1.TicketsService/CreateTicket', {
    kind: SpanKind.SERVER,
    attributes: {
      'rpc.service': 'refront.tickets.v1.TicketsService',
      'refront.tenant': 'acme',
      'http.response.status_code': 201,
      'refront.ratio': 0.25,
      'refront.retried': false,
      'refront.tags': ['a', null, 'c'],
      'refront.sizes': [1, 2.5],
    },
  });
  server.addEvent('log', { 'log.severity': 'warn', 'log.message': 'slow', 'refront.attempt': 2 });
  server.recordException(new Error('first try failed'));
  const ctx = trace.setSpan(ROOT_CONTEXT, server);
  tracer.startSpan('refront.ai.v1.AiService/Summarize', { kind: SpanKind.CLIENT }, ctx).end();
  const consumer = tracer.startSpan(
    'process refront.tickets.v1.TicketCreated',
    {
      kind: SpanKind.CONSUMER,
      attributes: { 'messaging.consumer.group.name': 'ai' },
      links: [{ context: server.spanContext(), attributes: { 'refront.link': 'producer' } }],
    },
    ctx,
  );
  consumer.setStatus({ code: SpanStatusCode.ERROR, message: 'provider down' });
  consumer.end();
  tracer.startSpan('internal step', { kind: SpanKind.INTERNAL }, ctx).end();
  tracer.startSpan('publish', { kind: SpanKind.PRODUCER }, ctx).end();
  server.setStatus({ code: SpanStatusCode.OK });
  server.end();
  await provider.forceFlush();
  const spans = memory.getFinishedSpans();
  // Values OTLP carries but the SDK's own setters refuse (bytes, maps): a span still may hold them.
  const linked = spans.find((s) => s.links.length > 0);
  Object.assign(linked?.links[0]?.attributes ?? {}, { 'raw.bytes': new Uint8Array([1, 2, 250]) });
  Object.assign(linked?.attributes ?? {}, { 'raw.map': { k: 'v', n: 1 } });
  return spans;
}

function exported(exporter: SpanExporter, spans: ReadableSpan[]): Promise<void> {
  return new Promise((resolve, reject) =>
    exporter.export(spans, (r) => (r.code === 0 ? resolve() : reject(r.error))),
  );
}

function recordsOf(store: TraceStore, traceId: string): readonly SpanRecord[] {
  const spans = store.trace(traceId)?.spans ?? [];
  return [...spans].sort((a, b) => a.spanId.localeCompare(b.spanId));
}

describe('createConsoleSpanExporter: spans in-process, as the OTLP receiver stores them', () => {
  for (const [encoding, Exporter] of [
    ['OTLP/JSON', OtlpJsonExporter],
    ['OTLP/protobuf', OtlpProtoExporter],
  ] as const) {
    it(`stores each span field for field as it comes out of ${encoding} through the console's receiver`, async () => {
      const spans = await finishedSpans();
      const traceId = spans[0]?.spanContext().traceId as string;
      const c = createConsole({ enabled: true, development: true, port: 0, logger });
      running.push(c);
      await c.start();
      await exported(new Exporter({ url: c.tracesUrl }), spans);
      const store = new TraceStore();
      await exported(createConsoleSpanExporter({ store }), spans);

      const viaOtlp = recordsOf(c.store, traceId);
      const inProcess = recordsOf(store, traceId);
      expect(inProcess).toHaveLength(spans.length);
      expect(viaOtlp).toHaveLength(spans.length);
      const fields = Object.keys(inProcess[0] as SpanRecord).sort();
      expect(fields).toEqual(Object.keys(viaOtlp[0] as SpanRecord).sort());
      for (const [i, span] of inProcess.entries()) {
        for (const field of fields) {
          expect([span.name, field, span[field as keyof SpanRecord]]).toStrictEqual([
            span.name,
            field,
            viaOtlp[i]?.[field as keyof SpanRecord],
          ]);
        }
      }
      // What the comparison covered: every kind, status, events, links, resource, odd values.
      const byName = new Map(inProcess.map((s) => [s.name, s]));
      expect(new Set(inProcess.map((s) => s.kind))).toEqual(
        new Set(['server', 'client', 'consumer', 'internal', 'producer']),
      );
      const server = byName.get('refront.tickets.v1.TicketsService/CreateTicket');
      expect(server).toMatchObject({
        parentSpanId: undefined,
        status: { code: 'ok', message: '' },
        resource: { 'service.name': 'refront-demo', 'service.version': '9.9.9' },
        attributes: { 'refront.tags': ['a', null, 'c'], 'refront.sizes': [1, 2.5], 'refront.retried': false },
      });
      expect(server?.events.map((e) => e.name)).toEqual(['log', 'exception']);
      const consumer = byName.get('process refront.tickets.v1.TicketCreated');
      expect(consumer).toMatchObject({ status: { code: 'error', message: 'provider down' } });
      expect(consumer?.parentSpanId).toBe(server?.spanId);
      expect(consumer?.links).toEqual([
        { traceId, spanId: server?.spanId, attributes: { 'refront.link': 'producer', 'raw.bytes': 'AQL6' } },
      ]);
      expect(consumer?.attributes['raw.map']).toBe('{"k":"v","n":1}');
    });
  }

  it('hands the spans of a drain to the store when the SDK shuts down (batched, not one by one)', async () => {
    const store = new TraceStore();
    const tracing = await setupTracing({
      serviceName: 'drain-test',
      extraExporters: [createConsoleSpanExporter({ store })],
    });
    let traceId = '';
    try {
      const span = trace.getTracer('test').startSpan('drain: last request');
      traceId = span.spanContext().traceId;
      span.end();
      // Batched: nothing reaches the store until the batch processor exports.
      expect(store.size).toBe(0);
    } finally {
      await tracing.shutdown();
    }
    expect(store.trace(traceId)?.spans.map((s) => [s.name, s.resource['service.name']])).toEqual([
      ['drain: last request', 'drain-test'],
    ]);
  });

  it('keeps a failing store off the request path: the export fails typed, the span ends, later spans arrive', async () => {
    let broken = true;
    const store = new (class extends TraceStore {
      override add(spans: readonly SpanRecord[]): void {
        if (broken) throw new Error('store is full of itself');
        super.add(spans);
      }
    })();
    // The SDK's batch processor reports a failed export to its error handler, which logs it to diag.
    const errors: string[] = [];
    const collect = (...args: unknown[]) => {
      errors.push(args.map(String).join(' '));
    };
    diag.setLogger(
      { error: collect, warn: collect, info: () => {}, debug: () => {}, verbose: () => {} } as DiagLogger,
      DiagLogLevel.WARN,
    );
    // A batch of one: the SDK exports inside span.end(), on the request path itself.
    const exporter = createConsoleSpanExporter({ store });
    const provider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(exporter, { maxExportBatchSize: 1 })],
    });
    try {
      const handle = (name: string): string => {
        const span = provider.getTracer('t').startSpan(name);
        span.end();
        return span.spanContext().traceId;
      };
      const lost = handle('request while the store fails');
      await expect
        .poll(() => errors.find((e) => e.includes('CONSOLE_SPANS_NOT_STORED')))
        .toContain('store is full of itself');
      broken = false;
      const kept = handle('request after');
      await provider.forceFlush();
      expect(store.trace(lost)).toBeUndefined();
      expect(store.trace(kept)?.spans.map((s) => s.name)).toEqual(['request after']);
    } finally {
      diag.disable();
      await provider.shutdown();
    }
    await expect(exported(exporter, [])).rejects.toMatchObject({ reason: 'CONSOLE_SPANS_NOT_STORED' });
  });
});
