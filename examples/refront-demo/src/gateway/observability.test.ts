import { SpanKind } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { setupTracing, type TracingHandle } from '@refront/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway } from './testing/fixture.js';

const exporter = new InMemorySpanExporter();
let tracing: TracingHandle;
beforeAll(async () => {
  tracing = await setupTracing({ serviceName: 'gateway-test', exporter, simple: true });
});
afterAll(async () => {
  await tracing.shutdown();
});

const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

/** A well-formed id the fakes do not know. */
const SOME_ID = '0d9e8f7a-6b5c-4d3e-8f2a-1b0c9d8e7f6a';

describe('gateway: tracing', () => {
  it('continues the caller trace, answers with its server span and parents the service calls on it', async () => {
    await using gw = await startGateway();
    exporter.reset();
    const res = await gw.call('POST', '/v1/customers', {
      token: await gw.tokenFor('acme'),
      body: { name: 'Globex', hourlyRateMinor: 100, currency: 'EUR' },
      headers: { traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    expect(res.status).toBe(201);
    const returned = res.headers.get('traceparent');
    expect(returned).toMatch(new RegExp(`^00-${CALLER_TRACE}-[0-9a-f]{16}-01$`));
    const serverSpanId = returned!.split('-')[2];

    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.name === 'POST /v1/customers');
    expect(server).toBeDefined();
    expect(server!.kind).toBe(SpanKind.SERVER);
    expect(server!.spanContext().spanId).toBe(serverSpanId);
    expect(server!.parentSpanContext?.spanId).toBe(CALLER_SPAN);
    expect(server!.attributes).toMatchObject({
      'refront.service': 'gateway',
      'http.request.method': 'POST',
      'http.route': '/v1/customers',
      'url.path': '/v1/customers',
      'http.response.status_code': 201,
      'refront.tenant': 'acme',
    });
    const client = spans.find((s) => s.kind === SpanKind.CLIENT);
    expect(client?.parentSpanContext?.spanId).toBe(serverSpanId);
    expect(client?.spanContext().traceId).toBe(CALLER_TRACE);
    expect(gw.fakes.control.seen[0]?.traceId).toBe(CALLER_TRACE);
  });

  it('starts a new trace without a (valid) traceparent and still returns one, errors included', async () => {
    await using gw = await startGateway();
    exporter.reset();
    const res = await gw.call('GET', '/v1/tickets/x', { headers: { traceparent: 'garbage' } });
    expect(res.status).toBe(401);
    const traceId = res.headers.get('traceparent')?.split('-')[1];
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(res.json.error.traceId).toBe(traceId);
    const server = exporter.getFinishedSpans().find((s) => s.kind === SpanKind.SERVER);
    expect(server?.parentSpanContext).toBeUndefined();
    expect(server?.attributes['http.response.status_code']).toBe(401);
  });

  it('marks 5xx server spans as errors', async () => {
    await using gw = await startGateway();
    exporter.reset();
    gw.fakes.control.crash.add('GetTicket');
    const res = await gw.call('GET', `/v1/tickets/${SOME_ID}`, { token: await gw.tokenFor('acme') });
    expect(res.status).toBe(500);
    const server = exporter.getFinishedSpans().find((s) => s.name === 'GET /v1/tickets/:id');
    expect(server?.status.code).toBe(2);
  });
});

describe('gateway: RED metrics', () => {
  it('records a duration histogram per method, route and status', async () => {
    await using gw = await startGateway();
    const token = await gw.tokenFor('acme');
    await gw.call('GET', '/v1/customers', { token });
    await gw.call('GET', '/v1/customers', { token });
    await gw.call('GET', `/v1/tickets/${SOME_ID}`, { token });
    await gw.call('GET', '/v1/customers');
    await gw.call('GET', '/v1/unknown/path');
    const text = await gw.metrics.metrics();
    const count = (labels: string) =>
      Number(new RegExp(`refront_http_server_duration_seconds_count\\{${labels}\\} (\\d+)`).exec(text)?.[1]);
    expect(count('method="GET",route="/v1/customers",status="200"')).toBe(2);
    expect(count('method="GET",route="/v1/customers",status="401"')).toBe(1);
    expect(count('method="GET",route="/v1/tickets/:id",status="404"')).toBe(1);
    expect(count('method="GET",route="\\(unmatched\\)",status="404"')).toBe(1);
    expect(text).toContain(
      'refront_rpc_client_duration_seconds_count{rpc_service="refront.tickets.v1.TicketsService"',
    );
  });
});
