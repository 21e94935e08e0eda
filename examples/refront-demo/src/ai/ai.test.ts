import { randomUUID } from 'node:crypto';
import { on } from '@refront/core';
import { encodeEvent } from '@refront/core/transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AiServiceDefinition } from '../gen/refront/ai/v1/ai.js';
import { TicketClassified, Urgency } from '../gen/refront/ai/v1/events.js';
import { TicketCreated } from '../gen/refront/tickets/v1/events.js';
import { TicketPriority, TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { eventually, type Harness, rejection, startHarness } from '../platform/testing/harness.js';
import { ticketsModule } from '../tickets/module.js';
import { createLocalProvider } from './localProvider.js';
import { createAiModule } from './module.js';

let h: Harness;
const classified: { event: TicketClassified; tenant: string | undefined }[] = [];

beforeAll(async () => {
  h = await startHarness([ticketsModule, createAiModule({ provider: await createLocalProvider() })]);
  await h.bus
    .as('audit')
    .subscribe('audit', [
      on(
        TicketClassified,
        async (event, ctx) => void classified.push({ event, tenant: ctx.envelope.tenant }),
      ),
    ]);
});
afterAll(async () => {
  await h?.stop();
});

/** Waits until no event waits for `group` three looks in a row, 50 ms apart (as settle() does). */
async function quiet(group: string) {
  let n = 0;
  await eventually(async () => {
    n = h.bus.pendingCount(group) === 0 ? n + 1 : 0;
    if (n < 3) await new Promise((r) => setTimeout(r, 50));
    return n >= 3 ? true : undefined;
  });
}

async function ticket(
  tenant: string,
  title: string,
  description: string,
  priority = TicketPriority.TICKET_PRIORITY_NORMAL,
) {
  const tickets = h.client(TicketsServiceDefinition, tenant);
  const { customer } = await tickets.createCustomer({
    name: 'Globex',
    hourlyRateMinor: 9_500,
    currency: 'EUR',
  });
  const { ticket } = await tickets.createTicket({
    customerId: customer?.id ?? '',
    title,
    description,
    priority,
  });
  return ticket?.id ?? '';
}

describe('classification of new tickets', () => {
  it('classifies and summarises a new ticket; the category and summary arrive on the ticket', async () => {
    const id = await ticket(
      'acme',
      'Charged twice for our subscription',
      'Hello. Our card was charged twice for the March subscription invoice. Please refund one charge.',
    );
    const tickets = h.client(TicketsServiceDefinition, 'acme');
    const updated = await eventually(async () => {
      const { ticket: t } = await tickets.getTicket({ id });
      return t?.category ? t : undefined;
    });
    expect(updated.category).toBe('billing');
    expect(updated.summary).toBe('Our card was charged twice for the March subscription invoice.');
    const { ticketClassification } = await h
      .client(AiServiceDefinition, 'acme')
      .getTicketClassification({ ticketId: id });
    expect(ticketClassification?.classification).toMatchObject({ category: 'billing', provider: 'local' });
    expect(ticketClassification?.classification?.latencyMs).toBeGreaterThan(0);
    const event = await eventually(async () => classified.find((c) => c.event.ticketId === id));
    expect(event.tenant).toBe('acme');
    expect(event.event).toMatchObject({ category: 'billing', provider: 'local' });
  });

  it('never lowers the urgency the reporter chose', async () => {
    const id = await ticket(
      'acme',
      'Add a dark theme',
      'A dark theme would be nice.',
      TicketPriority.TICKET_PRIORITY_URGENT,
    );
    const event = await eventually(async () => classified.find((c) => c.event.ticketId === id));
    expect(event.event.category).toBe('feature');
    expect(event.event.urgency).toBe(Urgency.URGENCY_URGENT);
  });

  it('classifies a ticket once when TicketCreated is delivered twice', async () => {
    const { envelope, body } = encodeEvent(
      'tickets',
      TicketCreated,
      {
        ticketId: 'dup-ticket',
        customerId: 'c',
        title: 'Site is down',
        description: 'Nothing loads for anyone.',
      },
      { tenant: 'dup-tenant' },
    );
    const tickets = h.bus.as('tickets');
    await tickets.publishRaw(envelope, body);
    await tickets.publishRaw(envelope, body);
    // The same ticket again under a new event id (a producer that published twice).
    await tickets.publish(
      TicketCreated,
      {
        ticketId: 'dup-ticket',
        customerId: 'c',
        title: 'Site is down',
        description: 'Nothing loads for anyone.',
      },
      { tenant: 'dup-tenant' },
    );
    await eventually(async () => classified.find((c) => c.event.ticketId === 'dup-ticket'));
    await quiet('ai');
    await quiet('audit');
    expect(classified.filter((c) => c.event.ticketId === 'dup-ticket')).toHaveLength(1);
  });

  it('dead-letters a TicketCreated without a tenant at once', async () => {
    await h.bus.as('tickets').publish(TicketCreated, { ticketId: 'no-tenant', title: 'x' });
    const dead = await eventually(async () =>
      h.bus.deadLetters('ai').find((d) => d.envelope.type === TicketCreated.$type),
    );
    expect([dead.reason, dead.attempts]).toEqual(['AI_BAD_TICKET_CREATED', 1]);
  });
});

describe('on-demand calls', () => {
  it('classifies and summarises without storing anything', async () => {
    const ai = h.client(AiServiceDefinition, 'acme');
    const { classification } = await ai.classify({
      title: 'Cannot log in after password reset',
      description: 'The reset link says my token is invalid and I am locked out of my account.',
    });
    expect(classification).toMatchObject({ category: 'account', provider: 'local' });
    expect(classification?.confidence).toBeGreaterThan(0);
    const { summary } = await ai.summarize({
      text: 'Hi. The export to CSV breaks every umlaut in customer names since the update. Regards.',
      maxLength: 40,
    });
    expect(summary.length).toBeLessThanOrEqual(40);
    expect(summary).toMatch(/^The export to CSV/);
  });

  it('refuses a request that breaks the contract, naming each field and rule, and 404s an unknown classification', async () => {
    const ai = h.client(AiServiceDefinition, 'acme');
    // Refused by ai.proto's rules (platform/contracts.ts) before the handler, by protobuf path.
    const bad = await rejection(ai.classify({ title: ' ', description: '' }));
    expect([bad.status, bad.reason]).toEqual(['INVALID_ARGUMENT', 'CORE_INVALID_MESSAGE']);
    expect(bad.details.fieldViolations?.map((v) => `${v.field} ${v.reason}`)).toEqual([
      ' classify.text_required',
    ]);
    const long = await rejection(ai.classify({ title: 'x'.repeat(201), description: 'd'.repeat(10_201) }));
    expect(long.details.fieldViolations?.map((v) => `${v.field} ${v.reason}`).sort()).toEqual([
      'description string.max_len',
      'title string.max_len',
    ]);
    const summary = await rejection(ai.summarize({ text: ' ', maxLength: 5 }));
    expect([summary.status, summary.reason]).toEqual(['INVALID_ARGUMENT', 'CORE_INVALID_MESSAGE']);
    expect(summary.details.fieldViolations?.map((v) => `${v.field} ${v.reason}`).sort()).toEqual([
      'max_length int32.gte_lte',
      'text string.pattern',
    ]);
    // 0 asks for the default length; 20 and 1000 are the bounds.
    for (const maxLength of [0, 20, 1_000]) {
      await expect(ai.summarize({ text: 'The export fails.', maxLength })).resolves.toMatchObject({
        provider: 'local',
      });
    }
    const malformed = await rejection(ai.getTicketClassification({ ticketId: 'nope' }));
    expect(malformed.details.fieldViolations?.map((v) => `${v.field} ${v.reason}`)).toEqual([
      'ticket_id string.uuid',
    ]);
    const missing = await rejection(ai.getTicketClassification({ ticketId: randomUUID() }));
    expect([missing.status, missing.reason]).toEqual(['NOT_FOUND', 'AI_CLASSIFICATION_NOT_FOUND']);
  });

  it("does not show one tenant's classification to another", async () => {
    const id = await ticket(
      'tenant-a',
      'Invoice total is wrong',
      'The invoice total does not match the quote.',
    );
    const a = h.client(AiServiceDefinition, 'tenant-a');
    await eventually(async () => a.getTicketClassification({ ticketId: id }).catch(() => undefined));
    const other = await rejection(
      h.client(AiServiceDefinition, 'tenant-b').getTicketClassification({ ticketId: id }),
    );
    expect(other.status).toBe('NOT_FOUND');
  });
});
