import { eventually, rejection, startTestApp, type TestApp } from '@refront/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketClassified, Urgency } from '../gen/refront/ai/v1/events.js';
import { InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import { ReportingServiceDefinition } from '../gen/refront/reporting/v1/reporting.js';
import { TicketCreated, TicketResolved } from '../gen/refront/tickets/v1/events.js';
import { TimeLogged } from '../gen/refront/timetracking/v1/timetracking.js';
import { demoValidator } from '../platform/testing/harness.js';
import { reportingModule } from './module.js';

let app: TestApp;

beforeAll(async () => {
  // Requests are checked against the contracts as the hosts check them; events are not, so the
  // module's own check of a malformed event (REPORTING_BAD_EVENT) is what the last test meets.
  app = await startTestApp({ modules: [reportingModule], validator: demoValidator(), validateEvents: false });
});
afterAll(async () => {
  await app?.close();
});

/** Waits until no event waits for reporting three looks in a row, 50 ms apart (as settle() does). */
const quiet = () => app.settled();

// Customer ids are UUIDs, as the tickets service makes them: the report's customer_id filter is
// checked against the contract. A sorts before B.
const CUST_A = '0000000a-0000-4000-8000-000000000000';
const CUST_B = '0000000b-0000-4000-8000-000000000000';

let n = 0;
const logged = (tenant: string, customerId: string, minutes: number, workDate: string) =>
  app
    .bus('time-tracking')
    .publish(TimeLogged, { entryId: `e${++n}`, ticketId: 't', customerId, minutes, workDate }, { tenant });
const issued = (
  tenant: string,
  customerId: string,
  period: string,
  totalMinor: number,
  totalMinutes: number,
  currency = 'EUR',
) =>
  app.bus('invoicing').publish(
    InvoiceIssued,
    {
      invoiceId: `inv${++n}`,
      number: `INV-${n}`,
      customerId,
      period,
      currency,
      totalMinor,
      totalMinutes,
      lineCount: 1,
    },
    { tenant },
  );

describe('customer report (hours and revenue per customer and month)', () => {
  it('sums logged time per month and invoiced totals to the cent, per customer', async () => {
    await logged('acme', CUST_B, 95, '2026-03-03');
    await logged('acme', CUST_B, 130, '2026-03-10');
    await logged('acme', CUST_B, 45, '2026-04-01');
    await logged('acme', CUST_A, 60, '2026-03-15');
    await issued('acme', CUST_B, '2026-03', 35_626, 225);
    await issued('acme', CUST_B, '2026-04', 7_125, 45);
    await issued('acme', CUST_A, '2026-03', 100_01, 60, 'USD');
    await logged('other', CUST_B, 999, '2026-03-01');
    const api = app.client(ReportingServiceDefinition, { tenant: 'acme' });
    const report = await eventually(async () => {
      const r = await api.getCustomerReport({});
      return r.customers.length === 2 &&
        r.customers.every((c) => c.revenue.length > 0) &&
        r.customers[1]?.revenue[0]?.invoiceCount === 2
        ? r
        : undefined;
    });
    expect(report.customers.map((c) => c.customerId)).toEqual([CUST_A, CUST_B]);
    const b = report.customers[1];
    expect(b?.loggedMinutes).toBe(270);
    expect(b?.revenue).toEqual([
      { currency: 'EUR', amountMinor: 42_751, billedMinutes: 270, invoiceCount: 2 },
    ]);
    expect(b?.months.map((m) => [m.month, m.loggedMinutes, m.revenue[0]?.amountMinor])).toEqual([
      ['2026-03', 225, 35_626],
      ['2026-04', 45, 7_125],
    ]);
    expect(report.customers[0]?.revenue).toEqual([
      { currency: 'USD', amountMinor: 10_001, billedMinutes: 60, invoiceCount: 1 },
    ]);
    const march = await api.getCustomerReport({
      customerId: CUST_B,
      fromMonth: '2026-03',
      toMonth: '2026-03',
    });
    expect(march.customers[0]?.loggedMinutes).toBe(225);
    expect(march.customers[0]?.revenue[0]?.amountMinor).toBe(35_626);
  });

  it('pages through customers and validates the request', async () => {
    for (const c of ['p-1', 'p-2', 'p-3']) await logged('pager', c, 30, '2026-01-05');
    const api = app.client(ReportingServiceDefinition, { tenant: 'pager' });
    await eventually(async () =>
      (await api.getCustomerReport({})).customers.length === 3 ? true : undefined,
    );
    const first = await api.getCustomerReport({ pageSize: 2 });
    const second = await api.getCustomerReport({ pageSize: 2, pageToken: first.nextPageToken });
    expect([...first.customers, ...second.customers].map((c) => c.customerId)).toEqual(['p-1', 'p-2', 'p-3']);
    expect(second.nextPageToken).toBe('');
    // Refused by reporting.proto's rules before the handler, each field and rule named.
    const bad = await rejection(
      api.getCustomerReport({
        customerId: 'p-1',
        fromMonth: '2026-13',
        toMonth: '2027-1',
        pageSize: 500,
        pageToken: 'x'.repeat(513),
      }),
    );
    expect([bad.status, bad.reason]).toEqual(['INVALID_ARGUMENT', 'CORE_INVALID_MESSAGE']);
    expect(bad.details.fieldViolations?.map((v) => `${v.field} ${v.reason}`).sort()).toEqual([
      'customer_id string.uuid',
      'from_month string.pattern',
      'page_size int32.gte_lte',
      'page_token string.max_len',
      'to_month string.pattern',
    ]);
    // A range that ends before it starts breaks the message's CEL rule (no single field).
    const order = await rejection(api.getCustomerReport({ fromMonth: '2026-05', toMonth: '2026-04' }));
    expect(order.details.fieldViolations?.map((v) => [v.field, v.reason, v.description])).toEqual([
      ['', 'customer_report.month_order', 'to_month must not be before from_month'],
    ]);
    await expect(api.getCustomerReport({ fromMonth: '2026-01', toMonth: '2026-01' })).resolves.toBeDefined();
    // A token of the right size that does not decode is the handler's to refuse.
    const token = await rejection(api.getCustomerReport({ pageToken: 'x' }));
    expect([token.reason, token.details.fieldViolations?.map((v) => v.field)]).toEqual([
      'REPORTING_INVALID_REQUEST',
      ['pageToken'],
    ]);
  });
});

describe('ticket report (open tickets per category)', () => {
  it('counts open tickets per category whatever order the events arrive in', async () => {
    const tickets = app.bus('tickets');
    const ai = app.bus('ai');
    const t = { tenant: 'desk' };
    // Classified before created, resolved before classified: the result is the same.
    await ai.publish(
      TicketClassified,
      { ticketId: 'k1', category: 'outage', urgency: Urgency.URGENCY_URGENT },
      t,
    );
    await tickets.publish(TicketCreated, { ticketId: 'k1', customerId: 'c', title: 'down' }, t);
    await tickets.publish(TicketCreated, { ticketId: 'k2', customerId: 'c', title: 'bill' }, t);
    await ai.publish(TicketClassified, { ticketId: 'k2', category: 'billing' }, t);
    await tickets.publish(TicketCreated, { ticketId: 'k3', customerId: 'c', title: 'bill 2' }, t);
    await tickets.publish(TicketResolved, { ticketId: 'k3', customerId: 'c', resolution: 'ok' }, t);
    await ai.publish(TicketClassified, { ticketId: 'k3', category: 'billing' }, t);
    await tickets.publish(TicketCreated, { ticketId: 'k4', customerId: 'c', title: 'new' }, t);
    const api = app.client(ReportingServiceDefinition, { tenant: 'desk' });
    const report = await eventually(async () => {
      const r = await api.getTicketReport({});
      return r.openTickets + r.resolvedTickets === 4 && r.categories.length === 3 ? r : undefined;
    });
    await quiet();
    expect(await api.getTicketReport({})).toEqual({
      categories: [
        { category: 'billing', openTickets: 1 },
        { category: 'outage', openTickets: 1 },
        { category: 'unclassified', openTickets: 1 },
      ],
      openTickets: 3,
      resolvedTickets: 1,
    });
    expect(report.resolvedTickets).toBe(1);
  });
});

describe('the event log', () => {
  it('applies an event delivered twice once', async () => {
    const handled = { group: 'reporting', event_type: InvoiceIssued.$type };
    const before = await app.metrics.value('refront_event_handler_duration_seconds_count', handled);
    // The bus delivers the one publish twice, same envelope (same event id).
    const twice = app.faults.event(
      { type: InvoiceIssued, source: 'invoicing' },
      { kind: 'duplicate' },
      { nth: 1 },
    );
    await app.bus('invoicing').publish(
      InvoiceIssued,
      {
        invoiceId: 'twice',
        customerId: 'c-twice',
        period: '2026-02',
        currency: 'EUR',
        totalMinor: 12_345,
        totalMinutes: 60,
      },
      { tenant: 'twice' },
    );
    twice.remove();
    expect(twice.hits).toBe(1);
    const api = app.client(ReportingServiceDefinition, { tenant: 'twice' });
    await eventually(async () =>
      (await api.getCustomerReport({})).customers.length === 1 ? true : undefined,
    );
    await quiet();
    // Both deliveries reached the handler.
    expect((await app.metrics.value('refront_event_handler_duration_seconds_count', handled)) - before).toBe(
      2,
    );
    const { customers } = await api.getCustomerReport({});
    expect(customers[0]?.revenue[0]).toMatchObject({ amountMinor: 12_345, invoiceCount: 1 });
    const { eventsReplayed } = await app
      .client(ReportingServiceDefinition, { tenant: 'twice', roles: ['admin'] })
      .rebuildReadModels({});
    expect(eventsReplayed).toBe(1);
  });

  it("rebuilds a tenant's read models from scratch with the same totals, and leaves other tenants alone", async () => {
    const api = app.client(ReportingServiceDefinition, { tenant: 'acme' });
    await quiet();
    const before = await api.getCustomerReport({});
    const tickets = await app.client(ReportingServiceDefinition, { tenant: 'desk' }).getTicketReport({});
    const rebuilt = await app
      .client(ReportingServiceDefinition, { tenant: 'acme', roles: ['admin'] })
      .rebuildReadModels({});
    expect(rebuilt.eventsReplayed).toBe(7);
    expect(rebuilt.durationMs).toBeGreaterThan(0);
    expect(await api.getCustomerReport({})).toEqual(before);
    const desk = await app
      .client(ReportingServiceDefinition, { tenant: 'desk', roles: ['admin'] })
      .rebuildReadModels({});
    expect(desk.eventsReplayed).toBe(8);
    expect(await app.client(ReportingServiceDefinition, { tenant: 'desk' }).getTicketReport({})).toEqual(
      tickets,
    );
    const other = await app.client(ReportingServiceDefinition, { tenant: 'other' }).getCustomerReport({});
    expect(other.customers[0]?.loggedMinutes).toBe(999);
  });

  it('refuses a rebuild by a caller without the admin role (PERMISSION_DENIED)', async () => {
    for (const roles of [[], ['member']] as const) {
      const refused = await rejection(
        app.client(ReportingServiceDefinition, { tenant: 'acme', roles: roles }).rebuildReadModels({}),
      );
      expect([refused.status, refused.reason]).toEqual(['PERMISSION_DENIED', 'VALIDATE_ROLE_REQUIRED']);
    }
  });

  it('dead-letters an invalid event at once without logging it', async () => {
    await app
      .bus('invoicing')
      .publish(InvoiceIssued, { invoiceId: 'bad', period: 'May', currency: 'euro' }, { tenant: 'bad' });
    const dead = await app.deadLetters.waitFor({ group: 'reporting', type: InvoiceIssued });
    expect([dead.reason, dead.attempts]).toEqual(['REPORTING_BAD_EVENT', 1]);
    const { eventsReplayed } = await app
      .client(ReportingServiceDefinition, { tenant: 'bad', roles: ['admin'] })
      .rebuildReadModels({});
    expect(eventsReplayed).toBe(0);
  });
});
