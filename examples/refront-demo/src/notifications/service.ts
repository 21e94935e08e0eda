import { on, RefrontError } from '@refront/core';
import { type Notification, NotificationsServiceDefinition } from '../gen/refront/demo/v1/notifications.js';
import { TicketCreated } from '../gen/refront/demo/v1/tickets.js';
import type { ModuleRuntime, ServiceModule } from '../platform.js';

/** The notifications service: tells a tenant about new tickets; sends each once. */
export const notificationsModule: ServiceModule = {
  name: 'notifications',
  async register({ server, bus }: ModuleRuntime) {
    const sent = new Map<string, Notification & { tenantId: string }>();
    await bus.subscribe('notifications', [
      on(TicketCreated, async (event, ctx) => {
        if (sent.has(ctx.envelope.id)) return;
        sent.set(ctx.envelope.id, {
          id: ctx.envelope.id,
          ticketId: event.ticketId,
          tenantId: event.tenantId,
          text: `New ticket: ${event.title}`,
        });
      }),
    ]);
    server.add(NotificationsServiceDefinition, {
      async listNotifications(_request, ctx) {
        if (!ctx.tenant)
          throw new RefrontError('UNAUTHENTICATED', 'NOTIFICATIONS_NO_TENANT', 'a tenant is required');
        const notifications = [...sent.values()]
          .filter((n) => n.tenantId === ctx.tenant)
          .map(({ id, ticketId, text }) => ({ id, ticketId, text }));
        return { notifications };
      },
    });
  },
};
