/**
 * System tests: the whole platform as a modular monolith, driven only through the gateway's
 * public HTTP API, as an outside client would.
 */

import { randomUUID } from 'node:crypto';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { setupTracing, type TracingHandle } from '@refront/core';
import parsePrometheusTextFormat from 'parse-prometheus-text-format';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TimeLogged } from '../src/gen/refront/timetracking/v1/timetracking.js';
import { settle } from '../src/platform/settle.js';
import { type Platform, startPlatform } from '../src/platform/startPlatform.js';
import { previousMonth, type WalkResult, walk } from '../src/walk.js';
import { devToken, type HttpOptions, http as httpAt, type Reply } from './http.js';

const exporter = new InMemorySpanExporter();
let tracing: TracingHandle;
let platform: Platform;
let walked: WalkResult;
const lines: string[] = [];

beforeAll(async () => {
  tracing = await setupTracing({ serviceName: 'refront-demo', exporter, simple: true });
  platform = await startPlatform({ gatewayPort: 0, opsPort: 0, rateLimitPerMinute: 300 });
  walked = await walk({
    baseUrl: platform.gatewayUrl,
    print: (l) => lines.push(l),
    settle: () => settle(platform),
  });
});
afterAll(async () => {
  await platform?.stop();
  await tracing?.shutdown();
});

function http(method: string, path: string, options: HttpOptions = {}): Promise<Reply> {
  return httpAt(platform.gatewayUrl, method, path, options);
}

/** A token of an admin of `tenant` (these tests close billing periods and rebuild reports). */
function tokenFor(tenant: string): Promise<string> {
  return devToken(platform.gatewayUrl, tenant, ['admin']);
}

async function customerAndTicket(token: string) {
  const customer = await http('POST', '/v1/customers', {
    token,
    body: { name: 'Initrode', hourlyRateMinor: 12_000, currency: 'USD' },
  });
  expect(customer.status).toBe(201);
  const ticket = await http('POST', '/v1/tickets', {
    token,
    body: { customerId: customer.body.id, title: 'Broken stapler' },
  });
  expect(ticket.status).toBe(201);
  return { customerId: customer.body.id as string, ticketId: ticket.body.id as string };
}

describe('the main flow through the gateway', () => {
  it('walks from customer to issued invoice, with totals exact to the cent', async () => {
    expect(lines.join('\n')).toContain('run issued');
    const token = await tokenFor(walked.tenant);
    const invoice = await http('GET', `/v1/invoices/${walked.invoiceId}`, { token });
    expect(invoice.status).toBe(200);
    // 95 + 130 + 45 + 20 minutes at EUR 95.00/h, each line rounded half up to the cent.
    const expected = [95, 130, 45, 20].reduce((sum, m) => sum + Math.floor((m * 9_500 + 30) / 60), 0);
    expect(invoice.body.totalMinor).toBe(expected);
    expect(invoice.body.totalMinutes).toBe(290);
    expect(invoice.body.period).toBe(previousMonth());
    expect(invoice.body.lines).toHaveLength(4);
    const run = await http('GET', `/v1/billing-runs/${invoice.body.billingRunId}`, { token });
    expect(run.body.state).toBe('issued');
    const tickets = await http('GET', `/v1/tickets?customerId=${walked.customerId}&status=open`, { token });
    expect(tickets.body.tickets).toHaveLength(2);
    const entries = await http('GET', `/v1/time-entries?ticketId=${walked.ticketIds[1]}`, { token });
    expect(entries.body.timeEntries.map((e: { minutes: number }) => e.minutes).sort()).toEqual([130, 45]);
  });

  it('closing the same period again is 409: nothing left to bill', async () => {
    const token = await tokenFor(walked.tenant);
    const again = await http('POST', '/v1/billing-runs', {
      token,
      body: { customerId: walked.customerId, period: previousMonth() },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.reason).toBe('INVOICING_NOTHING_TO_BILL');
  });
});

describe('tenant isolation', () => {
  it("no request of one tenant reads or changes another tenant's data", async () => {
    const acme = await tokenFor('acme-iso');
    const other = await tokenFor('initech-iso');
    const { customerId, ticketId } = await customerAndTicket(acme);
    expect((await http('GET', `/v1/tickets/${ticketId}`, { token: other })).status).toBe(404);
    expect((await http('GET', `/v1/customers/${customerId}`, { token: other })).status).toBe(404);
    expect(
      (await http('PATCH', `/v1/tickets/${ticketId}`, { token: other, body: { title: 'hacked' } })).status,
    ).toBe(404);
    expect(
      (await http('POST', `/v1/tickets/${ticketId}/resolve`, { token: other, body: { resolution: 'x' } }))
        .status,
    ).toBe(404);
    expect(
      (await http('POST', `/v1/tickets/${ticketId}/time-entries`, { token: other, body: { minutes: 5 } }))
        .status,
    ).toBe(404);
    expect(
      (await http('POST', '/v1/tickets', { token: other, body: { customerId, title: 'x' } })).status,
    ).toBe(404);
    expect((await http('GET', '/v1/tickets', { token: other })).body.tickets).toEqual([]);
    expect((await http('GET', '/v1/customers', { token: other })).body.customers).toEqual([]);
    expect(
      (await http('GET', `/v1/invoices?customerId=${walked.customerId}`, { token: other })).body.invoices,
    ).toEqual([]);
    const mine = await http('GET', `/v1/tickets/${ticketId}`, { token: acme });
    expect(mine.body.title).toBe('Broken stapler');
  });
});

describe('bad input', () => {
  it('400 lists every field error', async () => {
    const token = await tokenFor('acme');
    const res = await http('POST', '/v1/customers', {
      token,
      body: { name: '', hourlyRateMinor: -1, currency: 'euro' },
    });
    expect(res.status).toBe(400);
    expect(res.body.error.status).toBe('INVALID_ARGUMENT');
    const fields = res.body.error.fieldViolations.map((v: { field: string }) => v.field).sort();
    expect(fields).toEqual(expect.arrayContaining(['currency', 'hourlyRateMinor']));
    const malformed = await fetch(`${platform.gatewayUrl}/v1/tickets`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: '{"title": ',
    });
    expect(malformed.status).toBe(400);
  });

  it('401 without a token or with a forged one', async () => {
    expect((await http('GET', '/v1/tickets')).status).toBe(401);
    const forged = `${(await tokenFor('acme')).slice(0, -4)}AAAA`;
    const res = await http('GET', '/v1/tickets', { token: forged });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
  });

  it('404 for an unknown ticket, 400 naming the field for an id that is not one, 409 for time on a resolved one', async () => {
    const token = await tokenFor('acme');
    expect((await http('GET', `/v1/tickets/${randomUUID()}`, { token })).status).toBe(404);
    const malformed = await http('GET', '/v1/tickets/does-not-exist', { token });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.reason).toBe('GATEWAY_VALIDATION_FAILED');
    expect(malformed.body.error.fieldViolations.map((v: { field: string }) => v.field)).toEqual(['id']);
    const { ticketId } = await customerAndTicket(token);
    expect(
      (await http('POST', `/v1/tickets/${ticketId}/resolve`, { token, body: { resolution: 'done' } })).status,
    ).toBe(200);
    const res = await http('POST', `/v1/tickets/${ticketId}/time-entries`, { token, body: { minutes: 30 } });
    expect(res.status).toBe(409);
    expect(res.body.error.reason).toBe('TIMETRACKING_TICKET_RESOLVED');
    expect((await http('PATCH', `/v1/tickets/${ticketId}`, { token, body: { title: 'x' } })).status).toBe(
      409,
    );
  });

  it('429 when one tenant exceeds its rate, without limiting another tenant', async () => {
    const burst = await tokenFor('burst');
    const calm = await tokenFor('calm');
    let limited: Reply | undefined;
    for (let i = 0; i < 400 && !limited; i++) {
      const res = await http('GET', '/v1/customers', { token: burst });
      if (res.status === 429) limited = res;
    }
    expect(limited?.status).toBe(429);
    expect(Number(limited?.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await http('GET', '/v1/customers', { token: calm })).status).toBe(200);
  });
});

describe('events', () => {
  it('a consumer failing on one event dead-letters it with the reason; the others carry on', async () => {
    await platform.bus
      .as('time-tracking')
      .publish(TimeLogged, { entryId: '', minutes: -3 }, { tenant: 'acme' });
    await settle(platform);
    const dead = platform.bus.deadLetters('invoicing').filter((d) => d.envelope.type === TimeLogged.$type);
    expect(dead).toHaveLength(1);
    // Refused by the contract's rules before the handler ran, the fields named.
    expect(dead[0]?.reason).toBe('CORE_INVALID_MESSAGE');
    expect(dead[0]?.error).toMatch(/entry_id/);
    expect(dead[0]?.attempts).toBe(1);
    // The flow still works afterwards.
    const token = await tokenFor('after-dlq');
    const { customerId, ticketId } = await customerAndTicket(token);
    const period = previousMonth();
    expect(
      (
        await http('POST', `/v1/tickets/${ticketId}/time-entries`, {
          token,
          body: { minutes: 60, workDate: `${period}-15` },
        })
      ).status,
    ).toBe(201);
    await settle(platform);
    const closed = await http('POST', '/v1/billing-runs', { token, body: { customerId, period } });
    expect(closed.status).toBe(201);
    expect(closed.body.invoice.totalMinor).toBe(12_000);
  });
});

describe('observability', () => {
  it('one trace follows a request from the gateway through time-tracking, tickets, the bus and invoicing', async () => {
    const token = await tokenFor('traced');
    const { ticketId } = await customerAndTicket(token);
    await settle(platform);
    exporter.reset();
    const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
    const res = await http('POST', `/v1/tickets/${ticketId}/time-entries`, {
      token,
      body: { minutes: 15 },
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('traceparent')?.split('-')[1]).toBe(traceId);
    await settle(platform);
    await tracing.flush();
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const services = new Set(
      spans.map((s) =>
        String(s.attributes['rpc.service'] ?? s.attributes['messaging.destination.name'] ?? s.name),
      ),
    );
    const names = spans.map((s) => s.name).join(' | ');
    expect(names).toContain('refront.timetracking.v1.TimeTrackingService/LogTime');
    expect(names).toContain('refront.tickets.v1.TicketsService/GetTicket');
    // The event crossed the bus (through the time-tracking outbox); invoicing handled it in the same trace.
    const consumer = spans.find((s) => s.name === 'invoicing process');
    expect(consumer).toBeDefined();
    expect(JSON.stringify(consumer?.attributes)).toContain(TimeLogged.$type);
    expect(names).toContain('POST /v1/tickets/:id/time-entries');
    expect(services.size).toBeGreaterThanOrEqual(4);
  });

  it('/metrics of the platform passes a Prometheus text-format parser', async () => {
    const res = await fetch(`${platform.opsUrl}/metrics`);
    expect(res.status).toBe(200);
    const families = parsePrometheusTextFormat(await res.text());
    const names = families.map((f) => f.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'refront_rpc_server_duration_seconds',
        'refront_event_handler_duration_seconds',
      ]),
    );
    expect((await fetch(`${platform.opsUrl}/readyz`)).status).toBe(200);
  });
});
