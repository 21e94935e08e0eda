import { randomUUID } from 'node:crypto';
/**
 * System tests of the event-driven half (ai, notifications, reporting): the whole platform as a
 * modular monolith, driven through the gateway's public HTTP API as an outside client would.
 */

import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { setupTracing, type TracingHandle } from '@refront/core';
import { encodeEvent } from '@refront/core/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketClassified } from '../src/gen/refront/ai/v1/events.js';
import { InvoiceIssued } from '../src/gen/refront/invoicing/v1/invoicing.js';
import { TicketCreated } from '../src/gen/refront/tickets/v1/events.js';
import { settle } from '../src/platform/settle.js';
import { type Platform, startPlatform } from '../src/platform/startPlatform.js';
import { eventually } from '../src/platform/testing/harness.js';
import { previousMonth, type WalkResult, walk } from '../src/walk.js';
import { devToken, type HttpOptions, http as httpAt, type Reply } from './http.js';

const exporter = new InMemorySpanExporter();
let tracing: TracingHandle;
let platform: Platform;
let walked: WalkResult;
const lines: string[] = [];

beforeAll(async () => {
  tracing = await setupTracing({ serviceName: 'refront-demo', exporter, simple: true });
  platform = await startPlatform({ gatewayPort: 0, opsPort: 0, rateLimitPerMinute: 1_000 });
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

async function customer(token: string, hourlyRateMinor: number, currency = 'EUR'): Promise<string> {
  const res = await http('POST', '/v1/customers', {
    token,
    body: { name: 'Initrode', hourlyRateMinor, currency },
  });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function ticket(
  token: string,
  customerId: string,
  title: string,
  description = '',
  priority = 'normal',
) {
  const res = await http('POST', '/v1/tickets', {
    token,
    body: { customerId, title, description, priority },
  });
  expect(res.status).toBe(201);
  return res.body.id as string;
}

describe('the walk through the event-driven services', () => {
  it('shows the AI results, the notifications and a report equal to the invoice', () => {
    const text = lines.join('\n');
    expect(text).toContain('The AI service classified and summarised each new ticket');
    expect(walked.classifications.map((c) => c.category)).toEqual(['billing', 'outage', 'feature']);
    expect(walked.classifications[1]?.urgency).toBe('urgent');
    expect(walked.notifications).toEqual(
      expect.arrayContaining([
        { kind: 'invoice_issued', subjectId: walked.invoiceId },
        { kind: 'ticket_urgent', subjectId: walked.ticketIds[1] },
        { kind: 'ticket_resolved', subjectId: walked.ticketIds[0] },
      ]),
    );
    expect(walked.reportedRevenueMinor).toBe(walked.totalMinor);
    expect(walked.reportedMinutes).toBe(walked.totalMinutes);
  });
});

describe('ai', () => {
  it('the classification and summary arrive on a new ticket (bounded wait)', async () => {
    const token = await tokenFor('ai-sys');
    const customerId = await customer(token, 10_000);
    const id = await ticket(
      token,
      customerId,
      'Locked out after too many login attempts',
      'Hi. My account was locked after three failed logins and I need access for a meeting today. Thanks.',
    );
    const classified = await eventually(
      async () => {
        const res = await http('GET', `/v1/tickets/${id}`, { token });
        return res.body.category ? res.body : undefined;
      },
      { timeoutMs: 10_000 },
    );
    expect(classified.category).toBe('account');
    expect(classified.summary).toBe(
      'My account was locked after three failed logins and I need access for a meeting today.',
    );
    const stored = await http('GET', `/v1/tickets/${id}/classification`, { token });
    expect(stored.status).toBe(200);
    expect(stored.body).toMatchObject({ ticketId: id, category: 'account', provider: 'local' });
    const other = await http('GET', `/v1/tickets/${id}/classification`, {
      token: await tokenFor('ai-sys-other'),
    });
    expect(other.status).toBe(404);
  });

  it('classifies and summarises on demand, with field errors for bad input', async () => {
    const token = await tokenFor('ai-sys');
    const res = await http('POST', '/v1/ai/classify', {
      token,
      body: { title: 'Refund please', description: 'We were charged twice for the same invoice.' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ category: 'billing', provider: 'local' });
    const summary = await http('POST', '/v1/ai/summarize', {
      token,
      body: {
        text: 'Hello. The nightly export stopped after the upgrade and no file arrives. Regards.',
        maxLength: 60,
      },
    });
    expect(summary.body.summary).toBe('The nightly export stopped after the upgrade and no file…');
    const bad = await http('POST', '/v1/ai/summarize', { token, body: { text: '', maxLength: 5 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.fieldViolations.map((v: { field: string }) => v.field).sort()).toEqual([
      'maxLength',
      'text',
    ]);
  });
});

describe('reporting', () => {
  let token: string;
  let customers: string[];

  beforeAll(async () => {
    token = await tokenFor('report-sys');
    customers = [await customer(token, 9_999), await customer(token, 12_345, 'USD')];
    const period = previousMonth();
    for (const [i, customerId] of customers.entries()) {
      const id = await ticket(token, customerId, `Report ticket ${i}`, 'Export is broken.');
      for (const [minutes, day] of [
        [7, '02'],
        [61, '09'],
        [133, '17'],
      ] as const) {
        const res = await http('POST', `/v1/tickets/${id}/time-entries`, {
          token,
          body: { minutes, workDate: `${period}-${day}` },
        });
        expect(res.status).toBe(201);
      }
    }
    await settle(platform);
    for (const customerId of customers) {
      const closed = await http('POST', '/v1/billing-runs', { token, body: { customerId, period } });
      expect(closed.status).toBe(201);
    }
    await settle(platform);
  });

  async function invoicedPerCustomer(): Promise<Map<string, number>> {
    const res = await http('GET', '/v1/invoices?pageSize=100', { token });
    const totals = new Map<string, number>();
    for (const i of res.body.invoices)
      totals.set(i.customerId, (totals.get(i.customerId) ?? 0) + i.totalMinor);
    return totals;
  }

  it("the report's totals equal the invoices' to the cent", async () => {
    const invoiced = await invoicedPerCustomer();
    expect(invoiced.size).toBe(2);
    const report = await http('GET', '/v1/reports/customers', { token });
    expect(report.status).toBe(200);
    for (const c of report.body.customers) {
      expect(c.revenue).toHaveLength(1);
      expect(c.revenue[0].amountMinor).toBe(invoiced.get(c.customerId));
      expect(c.loggedMinutes).toBe(7 + 61 + 133);
    }
    expect(report.body.customers.map((c: { customerId: string }) => c.customerId).sort()).toEqual(
      [...customers].sort(),
    );
  });

  it('a read model rebuilt from scratch gives the same totals', async () => {
    const before = await http('GET', '/v1/reports/customers', { token });
    const tickets = await http('GET', '/v1/reports/tickets', { token });
    const rebuilt = await http('POST', '/v1/reports/rebuild', { token });
    expect(rebuilt.status).toBe(200);
    // 2 tickets created and classified, 6 entries logged, 2 invoices issued.
    expect(rebuilt.body.eventsReplayed).toBe(12);
    expect((await http('GET', '/v1/reports/customers', { token })).body).toEqual(before.body);
    expect((await http('GET', '/v1/reports/tickets', { token })).body).toEqual(tickets.body);
    const invoiced = await invoicedPerCustomer();
    for (const c of before.body.customers) expect(c.revenue[0].amountMinor).toBe(invoiced.get(c.customerId));
  });
});

describe('notifications', () => {
  it('a notification is sent once even when its event is delivered twice', async () => {
    const tenant = 'notify-sys';
    // Ids as the contract requires them (UUIDs): an event that breaks its rules is dead-lettered.
    const invoiceId = randomUUID();
    const { envelope, body } = encodeEvent(
      'invoicing',
      InvoiceIssued,
      {
        invoiceId,
        number: 'INV-000042',
        customerId: randomUUID(),
        period: '2026-01',
        currency: 'EUR',
        totalMinor: 1_999,
        totalMinutes: 30,
        lineCount: 1,
      },
      { tenant },
    );
    const invoicing = platform.bus.as('invoicing');
    await invoicing.publishRaw(envelope, body);
    await invoicing.publishRaw(envelope, body);
    await settle(platform);
    const token = await tokenFor(tenant);
    const res = await http('GET', `/v1/notifications?subjectId=${invoiceId}`, { token });
    expect(res.status).toBe(200);
    expect(res.body.notifications).toHaveLength(1);
    expect(res.body.notifications[0]).toMatchObject({
      kind: 'invoice_issued',
      status: 'sent',
      eventId: envelope.id,
      subject: 'Invoice INV-000042 issued: EUR 19.99',
    });
    const filtered = await http('GET', '/v1/notifications?kind=ticket_urgent', { token });
    expect(filtered.body.notifications).toEqual([]);
    const bad = await http('GET', '/v1/notifications?kind=weekly', { token });
    expect(bad.status).toBe(400);
  });
});

describe('observability', () => {
  it('one trace follows a ticket from the gateway through tickets, the bus, ai and notifications', async () => {
    const token = await tokenFor('traced-part2');
    const customerId = await customer(token, 5_000);
    await settle(platform);
    exporter.reset();
    const traceId = '5cf92f3577b34da6a3ce929d0e0e4799';
    const res = await http('POST', '/v1/tickets', {
      token,
      body: {
        customerId,
        title: 'Whole site is down',
        description: 'Nobody can log in, everything returns 503.',
      },
      headers: { traceparent: `00-${traceId}-00f067aa0ba902b7-01` },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get('traceparent')?.split('-')[1]).toBe(traceId);
    await eventually(async () => {
      const notes = await http('GET', `/v1/notifications?subjectId=${res.body.id}`, { token });
      return notes.body.notifications.length === 1 ? true : undefined;
    });
    await settle(platform);
    await tracing.flush();
    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const names = spans.map((s) => s.name);
    expect(names).toContain('POST /v1/tickets');
    expect(names).toContain('refront.tickets.v1.TicketsService/CreateTicket');
    const consumed = (group: string, type: string) =>
      spans.find((s) => s.name === `${group} process` && JSON.stringify(s.attributes).includes(type));
    // TicketCreated crossed the bus (tickets' outbox) to ai; TicketClassified (ai's outbox) to
    // notifications and back to tickets, all in the gateway request's trace.
    expect(consumed('ai', TicketCreated.$type)).toBeDefined();
    expect(consumed('notifications', TicketClassified.$type)).toBeDefined();
    expect(consumed('tickets', TicketClassified.$type)).toBeDefined();
    expect(consumed('reporting', TicketCreated.$type)).toBeDefined();
  });
});
