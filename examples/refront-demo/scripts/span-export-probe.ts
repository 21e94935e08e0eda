/**
 * CPU of the monolith's span path alone, per gateway request: the spans of real
 * `GET /v1/customers/:id` requests (taken from the console of a monolith started here as `npm run
 * demo` starts it, embedded PostgreSQL, then replayed through the OpenTelemetry SDK as finished spans) exported
 *  - `otlp`: as the monolith did before decision 0152, by the OTLP/HTTP JSON exporter to a console
 *    in this process (serialise, loopback HTTP, Fastify, parse, map, store), and
 *  - `inproc`: by `createConsoleSpanExporter` straight into a console's store,
 * in batches of the requests' spans, in alternating blocks; `process.cpuUsage()` per block covers
 * both ends, since both run in this process.
 *
 *   node --conditions=@refront/source --import tsx examples/refront-demo/scripts/span-export-probe.ts [blocks] [requestsPerBlock]
 *
 * Decision 0152; the figures are in docs/performance.md.
 */

import { ROOT_CONTEXT, type SpanContext, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  type ReadableSpan,
  SimpleSpanProcessor,
  type SpanExporter,
} from '@opentelemetry/sdk-trace-base';
import { createConsole, createConsoleSpanExporter, type SpanRecord } from '@refront/console';
import { startPlatform } from '../src/platform/startPlatform.js';

const KINDS: Record<string, SpanKind> = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

/** The spans of `requests` gateway reads, as the monolith's console stored them. */
async function gatewaySpans(requests: number): Promise<(readonly SpanRecord[])[]> {
  const platform = await startPlatform({ gatewayPort: 0, opsPort: false, console: { port: 0 } });
  try {
    const post = async (path: string, body: unknown, token?: string) =>
      (await (
        await fetch(`${platform.gatewayUrl}${path}`, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
          },
          body: JSON.stringify(body),
        })
      ).json()) as Record<string, string>;
    const { token } = await post('/v1/dev/tokens', { tenant: 'probe', user: 'probe@example.com' });
    const { id } = await post('/v1/customers', { name: 'C', hourlyRateMinor: 9_500, currency: 'EUR' }, token);
    for (let i = 0; i < requests; i++) {
      const res = await fetch(`${platform.gatewayUrl}/v1/customers/${id}`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (!res.ok) throw new Error(`GET answered ${res.status}`);
      await res.arrayBuffer();
    }
    await platform.flushTraces();
    const store = platform.console?.store;
    if (!store) throw new Error('no console');
    return store
      .search({ text: 'GET', limit: requests })
      .map((t) => store.trace(t.traceId)?.spans ?? [])
      .filter((spans) => spans.some((s) => s.name.startsWith('GET')));
  } finally {
    await platform.stop();
  }
}

/** The same spans as the SDK's finished spans (names, kinds, times, attributes, events, links, parents). */
function replay(traces: readonly (readonly SpanRecord[])[]): ReadableSpan[][] {
  const memory = new InMemorySpanExporter();
  const resource = resourceFromAttributes({ 'service.name': 'refront-demo', 'service.version': '0.1.0' });
  const provider = new BasicTracerProvider({ resource, spanProcessors: [new SimpleSpanProcessor(memory)] });
  const tracer = provider.getTracer('@refront/core');
  return traces.map((spans) => {
    memory.reset();
    const contexts = new Map<string, SpanContext>();
    for (const s of [...spans].sort((a, b) => a.startMs - b.startMs)) {
      const parent = s.parentSpanId === undefined ? undefined : contexts.get(s.parentSpanId);
      const span = tracer.startSpan(
        s.name,
        {
          kind: KINDS[s.kind] ?? SpanKind.INTERNAL,
          startTime: s.startMs,
          attributes: s.attributes as Record<string, string>,
          links: s.links.map((l) => ({ context: { traceId: l.traceId, spanId: l.spanId, traceFlags: 1 } })),
        },
        parent ? trace.setSpanContext(ROOT_CONTEXT, parent) : ROOT_CONTEXT,
      );
      for (const e of s.events) span.addEvent(e.name, e.attributes as Record<string, string>, e.timeMs);
      if (s.status.code === 'error')
        span.setStatus({ code: SpanStatusCode.ERROR, message: s.status.message });
      contexts.set(s.spanId, span.spanContext());
      span.end(s.startMs + s.durationMs);
    }
    return [...memory.getFinishedSpans()];
  });
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function exported(exporter: SpanExporter, spans: ReadableSpan[]): Promise<void> {
  return new Promise((resolve, reject) =>
    exporter.export(spans, (r) => (r.code === 0 ? resolve() : reject(r.error))),
  );
}

async function main(): Promise<void> {
  const blocks = Number(process.argv[2] ?? 20);
  const perBlock = Number(process.argv[3] ?? 500);
  const traces = replay(await gatewaySpans(200));
  const spanCount = traces.reduce((n, t) => n + t.length, 0);
  console.log(`${traces.length} gateway requests, ${(spanCount / traces.length).toFixed(1)} spans each`);
  const console_ = createConsole({ enabled: true, development: true, port: 0 });
  await console_.start();
  const ways: Record<string, SpanExporter> = {
    otlp: new OTLPTraceExporter({ url: console_.tracesUrl }),
    inproc: createConsoleSpanExporter({ store: console_.store }),
  };
  // A batch as the BatchSpanProcessor makes one: up to 512 spans of consecutive requests.
  const batches: ReadableSpan[][] = [];
  let batch: ReadableSpan[] = [];
  for (let i = 0; i < perBlock; i++) {
    const spans = traces[i % traces.length] as ReadableSpan[];
    if (batch.length + spans.length > 512) {
      batches.push(batch);
      batch = [];
    }
    batch.push(...spans);
  }
  batches.push(batch);
  const figures: Record<string, number[]> = { otlp: [], inproc: [] };
  for (let b = 0; b < blocks + 2; b++) {
    for (const way of b % 2 === 0 ? ['otlp', 'inproc'] : ['inproc', 'otlp']) {
      const before = process.cpuUsage();
      for (const spans of batches) await exported(ways[way] as SpanExporter, spans);
      const used = process.cpuUsage(before);
      // The first two blocks warm up (JIT, connections).
      if (b >= 2) figures[way]?.push((used.user + used.system) / perBlock);
    }
  }
  for (const [way, values] of Object.entries(figures)) {
    const sorted = [...values].sort((x, y) => x - y);
    console.log(
      `${way}: µs CPU per request's spans over ${blocks} blocks of ${perBlock}: median ${median(sorted).toFixed(1)}, min ${sorted[0]?.toFixed(1)}, max ${sorted[sorted.length - 1]?.toFixed(1)}`,
    );
  }
  await ways.otlp?.shutdown();
  await console_.close();
}

await main();
process.exit(0);
