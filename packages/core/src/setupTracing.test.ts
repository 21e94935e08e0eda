import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { setupTracing } from './setupTracing.js';
import { startSpan } from './trace.js';

describe('setupTracing', () => {
  it('exports OTLP/HTTP to the endpoint of the env it is given, not only of process.env', async () => {
    const received: { url: string | undefined; bytes: number }[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
      });
      req.on('end', () => {
        received.push({ url: req.url, bytes });
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    expect(process.env.OTEL_EXPORTER_OTLP_ENDPOINT).toBeUndefined();
    const tracing = await setupTracing({
      serviceName: 'setup-tracing-test',
      simple: true,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}/` },
    });
    try {
      expect(tracing.enabled).toBe(true);
      startSpan('exported', { kind: SpanKind.INTERNAL }).end();
      await tracing.flush();
      await expect.poll(() => received.length).toBe(1);
      expect(received[0]?.url).toBe('/v1/traces');
      expect(received[0]?.bytes).toBeGreaterThan(0);
    } finally {
      await tracing.shutdown();
      await new Promise((r) => server.close(r));
    }
  });

  it('gives every span to the extra exporters too, beside the OTLP/HTTP one of the env', async () => {
    const received: string[] = [];
    const server = createServer((req: IncomingMessage, res) => {
      req.resume();
      req.on('end', () => {
        received.push(req.url ?? '');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = server.address() as AddressInfo;
    const extra = [new InMemorySpanExporter(), new InMemorySpanExporter()];
    const tracing = await setupTracing({
      serviceName: 'setup-tracing-test',
      extraExporters: extra,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${port}` },
    });
    try {
      // The API's tracer of this registration (core's own is bound to the first SDK of the process).
      trace.getTracer('test').startSpan('both ways').end();
      await tracing.flush();
      expect(received).toEqual(['/v1/traces']);
      for (const e of extra) expect(e.getFinishedSpans().map((s) => s.name)).toEqual(['both ways']);
    } finally {
      await tracing.shutdown();
      await new Promise((r) => server.close(r));
    }
  });

  it('registers the SDK for extra exporters alone when no OTLP endpoint is set', async () => {
    const extra = new InMemorySpanExporter();
    const tracing = await setupTracing({ serviceName: 'extra-only', extraExporters: [extra], env: {} });
    try {
      expect(tracing.enabled).toBe(true);
      trace.getTracer('test').startSpan('in-process only').end();
      await tracing.flush();
      expect(extra.getFinishedSpans().map((s) => s.resource.attributes['service.name'])).toEqual([
        'extra-only',
      ]);
    } finally {
      await tracing.shutdown();
    }
    const none = await setupTracing({ serviceName: 'nothing', extraExporters: [], env: {} });
    expect(none.enabled).toBe(false);
  });
});
