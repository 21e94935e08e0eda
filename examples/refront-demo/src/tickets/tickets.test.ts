import { on } from '@refront/core';
import { encodeEvent } from '@refront/core/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketClassified, Urgency } from '../gen/refront/ai/v1/events.js';
import { TicketCreated, TicketResolved } from '../gen/refront/tickets/v1/events.js';
import { TicketPriority, TicketStatus, TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { eventually, type Harness, rejection, startHarness } from '../platform/testing/harness.js';
import { ticketsModule } from './module.js';

let h: Harness;
const seen: { type: string; tenant: string | undefined; ticketId: string }[] = [];

beforeAll(async () => {
  h = await startHarness([ticketsModule]);
  await h.bus.as('audit').subscribe('audit', [
    on(TicketCreated, async (e, ctx) => {
      seen.push({ type: 'created', tenant: ctx.envelope.tenant, ticketId: e.ticketId });
    }),
    on(TicketResolved, async (e, ctx) => {
      seen.push({ type: 'resolved', tenant: ctx.envelope.tenant, ticketId: e.ticketId });
    }),
  ]);
});
afterAll(() => h?.stop());

describe('tickets', () => {
  it('creates a customer and a ticket, and publishes TicketCreated with the tenant', async () => {
    const api = h.client(TicketsServiceDefinition, 'acme');
    const { customer } = await api.createCustomer({
      name: 'Globex',
      hourlyRateMinor: 9_000,
      currency: 'EUR',
    });
    expect(customer).toMatchObject({ name: 'Globex', hourlyRateMinor: 9_000, currency: 'EUR' });
    const { ticket } = await api.createTicket({ customerId: customer?.id ?? '', title: ' Printer on fire ' });
    expect(ticket).toMatchObject({
      title: 'Printer on fire',
      status: TicketStatus.TICKET_STATUS_OPEN,
      priority: TicketPriority.TICKET_PRIORITY_NORMAL,
      version: 1,
    });
    await eventually(async () => seen.find((s) => s.ticketId === ticket?.id));
    expect(seen.find((s) => s.ticketId === ticket?.id)).toEqual({
      type: 'created',
      tenant: 'acme',
      ticketId: ticket?.id,
    });
  });

  it('lists every field error of an invalid request at once', async () => {
    const api = h.client(TicketsServiceDefinition, 'acme');
    const e = await rejection(api.createCustomer({ name: ' ', hourlyRateMinor: -5, currency: 'euro' }));
    expect(e.status).toBe('INVALID_ARGUMENT');
    // Refused by the contract's rules (platform/contracts.ts), named by their protobuf field paths.
    expect(e.reason).toBe('CORE_INVALID_MESSAGE');
    expect(e.details.fieldViolations?.map((v) => `${v.field} ${v.reason}`).sort()).toEqual([
      'currency string.pattern',
      'hourly_rate_minor int64.gte_lte',
      'name string.pattern',
    ]);
    const t = await rejection(api.createTicket({ customerId: '', title: '', priority: 9 as TicketPriority }));
    expect(t.details.fieldViolations?.map((v) => `${v.field} ${v.reason}`).sort()).toEqual([
      'customer_id string.uuid_empty',
      'priority enum.defined_only',
      'title string.pattern',
    ]);
  });

  it("never shows or changes another tenant's records", async () => {
    const acme = h.client(TicketsServiceDefinition, 'acme');
    const other = h.client(TicketsServiceDefinition, 'initech');
    const { customer } = await acme.createCustomer({ name: 'Private', hourlyRateMinor: 1, currency: 'EUR' });
    const { ticket } = await acme.createTicket({ customerId: customer?.id ?? '', title: 'secret' });
    const id = ticket?.id ?? '';
    expect((await rejection(other.getTicket({ id }))).status).toBe('NOT_FOUND');
    expect((await rejection(other.getCustomer({ id: customer?.id ?? '' }))).status).toBe('NOT_FOUND');
    expect((await rejection(other.resolveTicket({ id, resolution: 'x' }))).status).toBe('NOT_FOUND');
    expect((await rejection(other.createTicket({ customerId: customer?.id ?? '', title: 'x' }))).status).toBe(
      'NOT_FOUND',
    );
    expect(
      (await other.listTickets({ pageSize: 0, pageToken: '', status: 0, customerId: '', category: '' }))
        .tickets,
    ).toEqual([]);
  });

  it('pages through tickets newest first with filters', async () => {
    const api = h.client(TicketsServiceDefinition, 'paging');
    const { customer } = await api.createCustomer({ name: 'Many', hourlyRateMinor: 100, currency: 'USD' });
    const ids: string[] = [];
    for (let i = 0; i < 25; i++) {
      const { ticket } = await api.createTicket({ customerId: customer?.id ?? '', title: `t${i}` });
      ids.push(ticket?.id ?? '');
    }
    await api.resolveTicket({ id: ids[0] ?? '', resolution: 'done' });
    const got: string[] = [];
    let token = '';
    do {
      const res = await api.listTickets({
        pageSize: 10,
        pageToken: token,
        status: 0,
        customerId: '',
        category: '',
      });
      got.push(...res.tickets.map((t) => t.id));
      token = res.nextPageToken;
    } while (token !== '');
    expect(got).toEqual([...ids].reverse());
    const open = await api.listTickets({
      pageSize: 100,
      pageToken: '',
      status: TicketStatus.TICKET_STATUS_OPEN,
      customerId: customer?.id ?? '',
      category: '',
    });
    expect(open.tickets).toHaveLength(24);
    const bad = await rejection(
      api.listTickets({ pageSize: 1000, pageToken: 'nope', status: 0, customerId: '', category: '' }),
    );
    expect(bad.status).toBe('INVALID_ARGUMENT');
  });

  it('updates an open ticket, and refuses to change or resolve a resolved one', async () => {
    const api = h.client(TicketsServiceDefinition, 'acme');
    const { customer } = await api.createCustomer({
      name: 'Hooli',
      hourlyRateMinor: 12_000,
      currency: 'USD',
    });
    const { ticket } = await api.createTicket({ customerId: customer?.id ?? '', title: 'Slow' });
    const id = ticket?.id ?? '';
    const updated = await api.updateTicket({ id, priority: TicketPriority.TICKET_PRIORITY_HIGH });
    expect(updated.ticket).toMatchObject({
      title: 'Slow',
      priority: TicketPriority.TICKET_PRIORITY_HIGH,
      version: 2,
    });
    const resolved = await api.resolveTicket({ id, resolution: 'Cache added' });
    expect(resolved.ticket).toMatchObject({
      status: TicketStatus.TICKET_STATUS_RESOLVED,
      resolution: 'Cache added',
    });
    expect(resolved.ticket?.resolvedAt).toBeInstanceOf(Date);
    const again = await rejection(api.resolveTicket({ id, resolution: 'again' }));
    expect([again.status, again.reason]).toEqual(['FAILED_PRECONDITION', 'TICKETS_TICKET_RESOLVED']);
    expect((await rejection(api.updateTicket({ id, title: 'x' }))).status).toBe('FAILED_PRECONDITION');
    await eventually(async () => seen.find((s) => s.ticketId === id && s.type === 'resolved'));
  });

  it('applies a classification once, even when the event is delivered twice', async () => {
    const api = h.client(TicketsServiceDefinition, 'acme');
    const { customer } = await api.createCustomer({ name: 'Umbrella', hourlyRateMinor: 1, currency: 'EUR' });
    const { ticket } = await api.createTicket({ customerId: customer?.id ?? '', title: 'Cannot log in' });
    const id = ticket?.id ?? '';
    const { envelope, body } = encodeEvent(
      'ai',
      TicketClassified,
      { ticketId: id, category: 'account', urgency: Urgency.URGENCY_HIGH, summary: 'Login fails' },
      { tenant: 'acme', key: id },
    );
    const ai = h.bus.as('ai');
    await ai.publishRaw(envelope, body);
    await ai.publishRaw(envelope, body);
    const classified = await eventually(async () => {
      const t = (await api.getTicket({ id })).ticket;
      return t?.category === 'account' ? t : undefined;
    });
    expect(classified).toMatchObject({ summary: 'Login fails', version: 2 });
    await new Promise((r) => setTimeout(r, 200));
    expect(h.bus.pendingCount('tickets')).toBe(0);
    expect((await api.getTicket({ id })).ticket?.version).toBe(2);
  });
});
