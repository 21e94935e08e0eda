import { randomUUID } from 'node:crypto';
import { createClient, createLogger, isRefrontError, type RefrontError } from '@refront/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketClassified, Urgency } from '../gen/refront/ai/v1/events.js';
import { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { type Platform, startPlatform } from './startPlatform.js';

/** The modular monolith checks its contracts' rules on the in-process lanes, as distributed does on gRPC, mux and AMQP. */
describe('validated contracts in the monolith', () => {
  let platform: Platform;
  beforeAll(async () => {
    platform = await startPlatform({
      gatewayPort: 0,
      opsPort: false,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
  });
  afterAll(() => platform?.stop());

  async function refusal(p: Promise<unknown>): Promise<RefrontError> {
    const e = await p.then(
      () => undefined,
      (err: unknown) => err,
    );
    if (!isRefrontError(e)) throw new Error(`expected a RefrontError, got ${String(e)}`);
    return e;
  }

  it('refuses GetTicket with an empty or malformed id with INVALID_ARGUMENT naming the field', async () => {
    const gateway = platform.network.channel({ caller: 'gateway' });
    const tickets = createClient(TicketsServiceDefinition, gateway, { caller: 'gateway' });
    const md = { metadata: { 'x-refront-tenant': 'acme' } };
    for (const [id, rule] of [
      ['', 'string.uuid_empty'],
      ['nope', 'string.uuid'],
    ]) {
      const e = await refusal(tickets.getTicket({ id }, md));
      expect([e.status, e.reason, e.details.fieldViolations?.map((v) => `${v.field} ${v.reason}`)]).toEqual([
        'INVALID_ARGUMENT',
        'CORE_INVALID_MESSAGE',
        [`id ${rule}`],
      ]);
    }
    expect((await refusal(tickets.getTicket({ id: randomUUID() }, md))).status).toBe('NOT_FOUND');
  });

  it('dead-letters a TicketClassified without a ticket id at once, naming the field', async () => {
    const dead = new Promise<unknown>((resolve) => {
      const off = platform.bus.onDeadLetter((d) => {
        if (d.group !== 'tickets') return;
        off();
        resolve([d.reason, d.error, d.attempts]);
      });
    });
    await platform.bus.as('ai').publish(
      TicketClassified,
      {
        ticketId: '',
        category: 'billing',
        urgency: Urgency.URGENCY_LOW,
        confidence: 0.5,
        provider: 'local',
      },
      { tenant: 'acme' },
    );
    expect(await dead).toEqual([
      'CORE_INVALID_MESSAGE',
      'refront.ai.v1.TicketClassified is invalid: ticket_id: value is empty, which is not a valid UUID [string.uuid_empty]',
      1,
    ]);
  });
});
