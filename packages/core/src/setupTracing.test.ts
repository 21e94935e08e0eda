import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SpanKind } from '@opentelemetry/api';
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
});
