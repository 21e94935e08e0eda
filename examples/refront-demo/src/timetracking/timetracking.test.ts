import { randomUUID } from 'node:crypto';
import { rejection, startTestApp, type TestApp } from '@refront/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { TimeLogged, TimeTrackingServiceDefinition } from '../gen/refront/timetracking/v1/timetracking.js';
import { demoValidator } from '../platform/testing/harness.js';
import { ticketsModule } from '../tickets/module.js';
import { timeTrackingModule } from './module.js';

let app: TestApp;

beforeAll(async () => {
  app = await startTestApp({ modules: [ticketsModule, timeTrackingModule], validator: demoValidator() });
});
afterAll(() => app?.close());

async function openTicket(tenant: string) {
  const tickets = app.client(TicketsServiceDefinition, { tenant: tenant });
  const { customer } = await tickets.createCustomer({ name: 'C', hourlyRateMinor: 6_000, currency: 'EUR' });
  const { ticket } = await tickets.createTicket({ customerId: customer?.id ?? '', title: 'T' });
  return { tickets, ticketId: ticket?.id ?? '', customerId: customer?.id ?? '' };
}

describe('time tracking', () => {
  it('logs time on an open ticket and publishes TimeLogged with the customer', async () => {
    const { ticketId, customerId } = await openTicket('acme');
    const time = app.client(TimeTrackingServiceDefinition, { tenant: 'acme' });
    const { entry } = await time.logTime({
      ticketId,
      minutes: 90,
      description: 'debugging',
      workDate: '2026-11-02',
    });
    expect(entry).toMatchObject({ ticketId, customerId, minutes: 90, workDate: '2026-11-02' });
    const { event, envelope } = await app.events.waitFor(TimeLogged, (e) => e.entryId === entry?.id);
    expect(event).toMatchObject({ ticketId, customerId, minutes: 90, workDate: '2026-11-02' });
    expect([envelope.source, envelope.tenant]).toEqual(['time-tracking', 'acme']);
    const list = await time.listTimeEntries({ pageSize: 0, pageToken: '', ticketId, customerId: '' });
    expect(list.entries.map((e) => e.id)).toEqual([entry?.id]);
  });

  it('answers a retried LogTime (same idempotency key) with the first entry: one entry, one event', async () => {
    const { tickets, ticketId } = await openTicket('acme');
    const time = app.client(TimeTrackingServiceDefinition, { tenant: 'acme' });
    const request = { ticketId, minutes: 30, description: 'retried', workDate: '2026-11-03' };
    const first = await time.logTime(request, { idempotencyKey: `log-${ticketId}` });
    // The ticket is resolved before the retry arrives: the retry still gets the first answer.
    await tickets.resolveTicket({ id: ticketId, resolution: 'done' });
    const retried = await time.logTime(request, { idempotencyKey: `log-${ticketId}` });
    expect(retried).toEqual(first);
    const list = await time.listTimeEntries({ pageSize: 0, pageToken: '', ticketId, customerId: '' });
    expect(list.entries.map((e) => e.id)).toEqual([first.entry?.id]);
    const other = await rejection(
      time.logTime({ ...request, minutes: 31 }, { idempotencyKey: `log-${ticketId}` }),
    );
    expect([other.status, other.reason]).toEqual(['FAILED_PRECONDITION', 'DATA_IDEMPOTENCY_KEY_REUSED']);
    await app.events.waitFor(TimeLogged, (e) => e.entryId === first.entry?.id);
    await app.settled();
    expect(app.events.of(TimeLogged, (e) => e.ticketId === ticketId)).toHaveLength(1);
  });

  it('refuses a resolved ticket with FAILED_PRECONDITION and an unknown one with NOT_FOUND', async () => {
    const { tickets, ticketId } = await openTicket('acme');
    await tickets.resolveTicket({ id: ticketId, resolution: 'done' });
    const time = app.client(TimeTrackingServiceDefinition, { tenant: 'acme' });
    const resolved = await rejection(time.logTime({ ticketId, minutes: 5, description: '', workDate: '' }));
    expect([resolved.status, resolved.reason]).toEqual([
      'FAILED_PRECONDITION',
      'TIMETRACKING_TICKET_RESOLVED',
    ]);
    const unknown = await rejection(
      time.logTime({ ticketId: randomUUID(), minutes: 5, description: '', workDate: '' }),
    );
    expect([unknown.status, unknown.reason]).toEqual(['NOT_FOUND', 'TIMETRACKING_TICKET_NOT_FOUND']);
    // A ticket id that is not a UUID breaks the contract's rules: refused before the handler.
    const malformed = await rejection(
      time.logTime({ ticketId: 'nope', minutes: 5, description: '', workDate: '' }),
    );
    expect([malformed.status, malformed.reason]).toEqual(['INVALID_ARGUMENT', 'CORE_INVALID_MESSAGE']);
    expect(malformed.details.fieldViolations?.map((v) => v.field)).toEqual(['ticket_id']);
  });

  it("cannot log time on another tenant's ticket", async () => {
    const { ticketId } = await openTicket('acme');
    const other = app.client(TimeTrackingServiceDefinition, { tenant: 'initech' });
    const e = await rejection(other.logTime({ ticketId, minutes: 5, description: '', workDate: '' }));
    expect(e.status).toBe('NOT_FOUND');
  });

  it('lists every invalid field', async () => {
    const time = app.client(TimeTrackingServiceDefinition, { tenant: 'acme' });
    const e = await rejection(
      time.logTime({ ticketId: '', minutes: 0, description: '', workDate: '2026-02' }),
    );
    expect(e.status).toBe('INVALID_ARGUMENT');
    expect(e.details.fieldViolations?.map((v) => v.field).sort()).toEqual([
      'minutes',
      'ticket_id',
      'work_date',
    ]);
    // A day that has the format but does not exist is the handler's to refuse.
    const { ticketId } = await openTicket('acme');
    const day = await rejection(
      time.logTime({ ticketId, minutes: 5, description: '', workDate: '2026-02-30' }),
    );
    expect([day.reason, day.details.fieldViolations?.map((v) => v.field)]).toEqual([
      'TIMETRACKING_INVALID_ENTRY',
      ['workDate'],
    ]);
  });
});
