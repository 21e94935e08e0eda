import { randomUUID } from 'node:crypto';
import { RefrontError } from '@refront/core';
import { type Ticket, TicketCreated, TicketsServiceDefinition } from '../gen/refront/demo/v1/tickets.js';
import type { ModuleRuntime, ServiceModule } from '../platform.js';

/** The tickets service: owns tickets, publishes TicketCreated. */
export const ticketsModule: ServiceModule = {
  name: 'tickets',
  async register({ server, bus }: ModuleRuntime) {
    const tickets = new Map<string, Ticket>();
    server.add(TicketsServiceDefinition, {
      async createTicket(request, ctx) {
        const tenantId = requireTenant(ctx.tenant);
        if (request.title.trim() === '') {
          throw new RefrontError('INVALID_ARGUMENT', 'TICKETS_INVALID_TICKET', 'the ticket is invalid', {
            details: { fieldViolations: [{ field: 'title', description: 'must not be empty' }] },
            retryable: false,
          });
        }
        const ticket: Ticket = { id: randomUUID(), tenantId, title: request.title.trim(), status: 'open' };
        tickets.set(ticket.id, ticket);
        await bus.publish(
          TicketCreated,
          { ticketId: ticket.id, tenantId, title: ticket.title },
          { key: ticket.id },
        );
        return { ticket };
      },
      async getTicket(request, ctx) {
        const tenantId = requireTenant(ctx.tenant);
        const ticket = tickets.get(request.id);
        if (!ticket || ticket.tenantId !== tenantId) {
          throw new RefrontError(
            'NOT_FOUND',
            'TICKETS_TICKET_NOT_FOUND',
            `ticket ${request.id} does not exist`,
          );
        }
        return { ticket };
      },
    });
  },
};

function requireTenant(tenant: string | undefined): string {
  if (!tenant) throw new RefrontError('UNAUTHENTICATED', 'TICKETS_NO_TENANT', 'a tenant is required');
  return tenant;
}
