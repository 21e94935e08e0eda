import { type Client, createClient, createLogger, createRequestContext, runWithContext } from '@refront/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { ticketsModule } from '../tickets/module.js';
import type { ServiceModule } from './module.js';
import { type Harness, rejection, startHarness } from './testing/harness.js';

const logger = createLogger({ service: 'test', level: 'silent' });

/** A module named `name` that declares nothing and keeps the tickets client its runtime gives it. */
function callingModule(name: string): {
  module: ServiceModule;
  tickets: () => Client<typeof TicketsServiceDefinition>;
} {
  let tickets: Client<typeof TicketsServiceDefinition> | undefined;
  const module: ServiceModule = {
    name,
    events: { publishes: [], consumes: [] },
    migrations: [],
    callers: {},
    async register({ client }) {
      tickets = client(TicketsServiceDefinition);
    },
  };
  return { module, tickets: () => tickets as Client<typeof TicketsServiceDefinition> };
}

/** Runs `fn` as a call made for tenant `acme`. */
const forAcme = <T>(fn: () => Promise<T>): Promise<T> =>
  runWithContext(createRequestContext({ service: 'test', logger, tenant: 'acme' }), fn);

describe('the monolith checks the callers each module declares, as mutual TLS does once deployed', () => {
  const invoicing = callingModule('invoicing');
  const reporting = callingModule('reporting');
  let h: Harness;
  let customerId = '';

  beforeAll(async () => {
    h = await startHarness([ticketsModule, invoicing.module, reporting.module]);
    const { customer } = await h
      .client(TicketsServiceDefinition, 'acme')
      .createCustomer({ name: 'Globex', hourlyRateMinor: 9_000, currency: 'EUR' });
    customerId = customer?.id ?? '';
  });
  afterAll(() => h?.stop());

  it('serves a module calling a method it is declared for (tickets declares invoicing for GetCustomer)', async () => {
    const { customer } = await forAcme(() => invoicing.tickets().getCustomer({ id: customerId }));
    expect(customer?.name).toBe('Globex');
  });

  it('refuses PERMISSION_DENIED a module calling a method it is not declared for, before any handler', async () => {
    const err = await rejection(forAcme(() => invoicing.tickets().getTicket({ id: customerId })));
    expect([err.status, err.reason, err.retryable]).toEqual([
      'PERMISSION_DENIED',
      'CORE_CALLER_NOT_ALLOWED',
      false,
    ]);
    expect(err.message).toBe(
      'invoicing is not a declared caller of /refront.tickets.v1.TicketsService/GetTicket',
    );
  });

  it('refuses PERMISSION_DENIED a module tickets does not declare at all', async () => {
    const err = await rejection(forAcme(() => reporting.tickets().getCustomer({ id: customerId })));
    expect([err.status, err.reason]).toEqual(['PERMISSION_DENIED', 'CORE_CALLER_NOT_ALLOWED']);
  });

  it('refuses UNAUTHENTICATED a channel without a caller, and serves the console (an operator) every method', async () => {
    const anonymous = createClient(TicketsServiceDefinition, h.network.channel(), { caller: 'gateway' });
    const err = await rejection(forAcme(() => anonymous.getCustomer({ id: customerId })));
    expect([err.status, err.reason]).toEqual(['UNAUTHENTICATED', 'CORE_UNAUTHENTICATED_CALLER']);
    const operator = createClient(TicketsServiceDefinition, h.network.channel({ caller: 'console' }), {
      caller: 'console',
    });
    const { customer } = await forAcme(() => operator.getCustomer({ id: customerId }));
    expect(customer?.id).toBe(customerId);
  });
});
