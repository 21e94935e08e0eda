import { randomUUID } from 'node:crypto';
import { trace } from '@opentelemetry/api';
import { on, RefrontError } from '@refront/core';
import {
  createIdempotentRequests,
  createInbox,
  type ModuleRuntime,
  pageOf,
  pageRequest,
  type ServiceModule,
} from '@refront/data';
import { requireTenant, Violations } from '@refront/validate';
import { TicketClassified } from '../gen/refront/ai/v1/events.js';
import { TicketCreated, TicketResolved, TicketUpdated } from '../gen/refront/tickets/v1/events.js';
import {
  type Ticket,
  TicketPriority,
  TicketStatus,
  TicketsServiceDefinition,
} from '../gen/refront/tickets/v1/tickets.js';
import { customerNotFound, ticketNotFound } from './errors.js';
import { ticketsMigrations } from './migrations.js';
import { isPriority, ticketStore as store, toCustomer, toTicket } from './store.js';

/** Longest title a ticket may have. */
export const MAX_TITLE_LENGTH = 200;
/** Longest description or resolution a ticket may have. */
export const MAX_TEXT_LENGTH = 10_000;

const CURRENCY = /^[A-Z]{3}$/;

/**
 * The tickets service: owns customers (with their hourly rates, decision 0065) and tickets.
 * Publishes TicketCreated, TicketUpdated and TicketResolved through its outbox; consumes
 * TicketClassified from the AI service. Its state-changing methods store their response with
 * their writes under the call's idempotency key, so a retried call gets the first answer
 * (decision 0052).
 */
export const ticketsModule: ServiceModule = {
  name: 'tickets',
  callers: {
    gateway: '*',
    // The billing saga reads the customer's rate; time entries are checked against their ticket.
    invoicing: ['refront.tickets.v1.TicketsService/GetCustomer'],
    'time-tracking': ['refront.tickets.v1.TicketsService/GetTicket'],
  },
  migrations: ticketsMigrations,
  events: { publishes: [TicketCreated, TicketUpdated, TicketResolved], consumes: [TicketClassified] },
  async register({ name, server, bus, db, outbox, metrics, logger, onClose }: ModuleRuntime) {
    const requests = createIdempotentRequests({ db, metrics, logger });
    requests.start();
    onClose(() => requests.close());
    const methods = TicketsServiceDefinition.methods;
    server.add(TicketsServiceDefinition, {
      async createCustomer(request, ctx) {
        const tenant = requireTenant(ctx);
        new Violations()
          .required('name', request.name)
          .check(
            request.name.length > MAX_TITLE_LENGTH,
            'name',
            `must be at most ${MAX_TITLE_LENGTH} characters`,
          )
          .check(
            !Number.isSafeInteger(request.hourlyRateMinor) || request.hourlyRateMinor < 0,
            'hourlyRateMinor',
            'must be a whole number of minor units, 0 or more',
          )
          .check(!CURRENCY.test(request.currency), 'currency', 'must be an ISO 4217 code such as EUR')
          .throwIfAny('TICKETS_INVALID_CUSTOMER', 'the customer is invalid');
        return requests.run(ctx, methods.createCustomer, request, async (tx) => {
          const customer = await store.insertCustomer(tx, tenant, {
            id: randomUUID(),
            name: request.name.trim(),
            hourly_rate_minor: request.hourlyRateMinor,
            currency: request.currency,
          });
          return { customer };
        });
      },

      async getCustomer(request, ctx) {
        const tenant = requireTenant(ctx);
        const customer = await store.customer(db, tenant, request.id);
        if (!customer) throw customerNotFound(request.id);
        return { customer };
      },

      async listCustomers(request, ctx) {
        const tenant = requireTenant(ctx);
        const req = pageRequest(request.pageSize, request.pageToken);
        const { items, nextPageToken } = pageOf(await store.customers(db, tenant, req), req.limit);
        return { customers: items.map(toCustomer), nextPageToken };
      },

      async createTicket(request, ctx) {
        const tenant = requireTenant(ctx);
        const priority =
          request.priority === TicketPriority.TICKET_PRIORITY_UNSPECIFIED
            ? TicketPriority.TICKET_PRIORITY_NORMAL
            : request.priority;
        new Violations()
          .required('customerId', request.customerId)
          .required('title', request.title)
          .check(
            request.title.length > MAX_TITLE_LENGTH,
            'title',
            `must be at most ${MAX_TITLE_LENGTH} characters`,
          )
          .check(
            request.description.length > MAX_TEXT_LENGTH,
            'description',
            `must be at most ${MAX_TEXT_LENGTH} characters`,
          )
          .check(!isPriority(priority), 'priority', 'must be low, normal, high or urgent')
          .throwIfAny('TICKETS_INVALID_TICKET', 'the ticket is invalid');
        return requests.run(ctx, methods.createTicket, request, async (tx) => {
          const customer = await store.customer(tx, tenant, request.customerId);
          if (!customer) throw customerNotFound(request.customerId);
          const created = await store.insertTicket(tx, tenant, {
            id: randomUUID(),
            customerId: customer.id,
            title: request.title.trim(),
            description: request.description,
            priority,
          });
          // The console finds the ticket's trace by its id.
          trace.getActiveSpan()?.setAttribute('refront.ticket.id', created.id);
          await outbox.add(
            tx,
            TicketCreated,
            {
              ticketId: created.id,
              customerId: created.customerId,
              title: created.title,
              description: created.description,
              priority: created.priority,
            },
            { key: created.id },
          );
          return { ticket: created };
        });
      },

      async getTicket(request, ctx) {
        const tenant = requireTenant(ctx);
        const ticket = await store.ticket(db, tenant, request.id);
        if (!ticket) throw ticketNotFound(request.id);
        return { ticket };
      },

      async listTickets(request, ctx) {
        const tenant = requireTenant(ctx);
        const req = pageRequest(request.pageSize, request.pageToken);
        const v = new Violations().check(
          ![
            TicketStatus.TICKET_STATUS_UNSPECIFIED,
            TicketStatus.TICKET_STATUS_OPEN,
            TicketStatus.TICKET_STATUS_RESOLVED,
          ].includes(request.status),
          'status',
          'must be open or resolved',
        );
        v.throwIfAny('TICKETS_INVALID_FILTER', 'the filter is invalid');
        const status =
          request.status === TicketStatus.TICKET_STATUS_OPEN
            ? 'open'
            : request.status === TicketStatus.TICKET_STATUS_RESOLVED
              ? 'resolved'
              : undefined;
        const rows = await store.tickets(
          db,
          tenant,
          {
            status,
            customerId: request.customerId || undefined,
            category: request.category || undefined,
          },
          req,
        );
        const { items, nextPageToken } = pageOf(rows, req.limit);
        return { tickets: items.map(toTicket), nextPageToken };
      },

      async updateTicket(request, ctx) {
        const tenant = requireTenant(ctx);
        new Violations()
          .check(request.title?.trim() === '', 'title', 'must not be empty')
          .check(
            (request.title?.length ?? 0) > MAX_TITLE_LENGTH,
            'title',
            `must be at most ${MAX_TITLE_LENGTH} characters`,
          )
          .check(
            (request.description?.length ?? 0) > MAX_TEXT_LENGTH,
            'description',
            `must be at most ${MAX_TEXT_LENGTH} characters`,
          )
          .check(
            request.priority !== undefined && !isPriority(request.priority),
            'priority',
            'must be low, normal, high or urgent',
          )
          .throwIfAny('TICKETS_INVALID_TICKET', 'the change is invalid');
        return requests.run(ctx, methods.updateTicket, request, async (tx) => {
          const current = await store.ticket(tx, tenant, request.id, true);
          if (!current) throw ticketNotFound(request.id);
          assertOpen(current);
          const updated = await store.updateTicket(tx, tenant, request.id, {
            title: request.title?.trim(),
            description: request.description,
            priority: request.priority,
          });
          await outbox.add(tx, TicketUpdated, updatedEvent(updated), { key: updated.id });
          return { ticket: updated };
        });
      },

      async resolveTicket(request, ctx) {
        const tenant = requireTenant(ctx);
        new Violations()
          .check(
            request.resolution.length > MAX_TEXT_LENGTH,
            'resolution',
            `must be at most ${MAX_TEXT_LENGTH} characters`,
          )
          .throwIfAny('TICKETS_INVALID_RESOLUTION', 'the resolution is invalid');
        return requests.run(ctx, methods.resolveTicket, request, async (tx) => {
          const current = await store.ticket(tx, tenant, request.id, true);
          if (!current) throw ticketNotFound(request.id);
          assertOpen(current);
          const resolved = await store.resolveTicket(tx, tenant, request.id, request.resolution);
          await outbox.add(
            tx,
            TicketResolved,
            {
              ticketId: resolved.id,
              customerId: resolved.customerId,
              resolution: resolved.resolution,
              category: resolved.category,
            },
            { key: resolved.id },
          );
          return { ticket: resolved };
        });
      },
    });

    const inbox = createInbox({ db, group: name, metrics, logger });
    await bus.subscribe(name, [
      on(
        TicketClassified,
        inbox.handler(async (event, context, tx) => {
          const tenant = context.envelope.tenant;
          if (!tenant || event.ticketId.trim() === '') {
            throw new RefrontError(
              'INVALID_ARGUMENT',
              'TICKETS_BAD_CLASSIFICATION',
              'the event names no tenant or ticket',
              {
                retryable: false,
              },
            );
          }
          const current = await store.ticket(tx, tenant, event.ticketId, true);
          if (!current) {
            // A classification of a ticket this service never stored cannot be applied later either.
            throw ticketNotFound(event.ticketId);
          }
          const updated = await store.updateTicket(tx, tenant, event.ticketId, {
            category: event.category,
            summary: event.summary,
          });
          await outbox.add(tx, TicketUpdated, updatedEvent(updated), { key: updated.id });
        }),
      ),
    ]);
  },
};

function assertOpen(ticket: Ticket): void {
  if (ticket.status === TicketStatus.TICKET_STATUS_RESOLVED) {
    throw new RefrontError(
      'FAILED_PRECONDITION',
      'TICKETS_TICKET_RESOLVED',
      `ticket ${ticket.id} is resolved`,
      {
        details: { metadata: { ticketId: ticket.id } },
        retryable: false,
      },
    );
  }
}

function updatedEvent(t: Ticket): TicketUpdated {
  return {
    ticketId: t.id,
    customerId: t.customerId,
    title: t.title,
    description: t.description,
    priority: t.priority,
    category: t.category,
    version: t.version,
  };
}
