import {
  type Channel,
  createClient,
  createRequestContext,
  type Logger,
  randomSpanId,
  randomTraceId,
  runWithContext,
} from '@refront/core';
import { NotificationsServiceDefinition } from './gen/refront/demo/v1/notifications.js';
import { TicketsServiceDefinition } from './gen/refront/demo/v1/tickets.js';

/** What the walk did, for tests. */
export interface WalkResult {
  readonly ticketId: string;
  readonly notifications: number;
}

/**
 * The scripted walk through the platform's main flow, as a caller outside the services would
 * do it: create a ticket, read it back, wait for the notification its event caused.
 */
export async function walk(
  channel: Channel,
  logger: Logger,
  print: (line: string) => void,
): Promise<WalkResult> {
  const tickets = createClient(TicketsServiceDefinition, channel, { caller: 'demo-walk' });
  const notifications = createClient(NotificationsServiceDefinition, channel, { caller: 'demo-walk' });
  const parent = { traceId: randomTraceId(), spanId: randomSpanId(), traceFlags: 1, isRemote: false };
  const ctx = createRequestContext({
    service: 'demo-walk',
    logger,
    tenant: 'acme',
    deadline: Date.now() + 10_000,
    parent,
  });
  return runWithContext(ctx, async () => {
    const { ticket } = await tickets.createTicket({ title: 'Printer on fire' });
    print(`1. tenant acme creates a ticket          -> ${ticket?.id} "${ticket?.title}" (${ticket?.status})`);
    const read = await tickets.getTicket({ id: ticket!.id });
    print(`2. reads it back                         -> ${read.ticket?.title}`);
    try {
      await tickets.createTicket({ title: '   ' });
    } catch (e: unknown) {
      const err = e as { status?: string; reason?: string; details?: unknown };
      print(
        `3. an empty title is refused             -> ${err.status} ${err.reason} ${JSON.stringify(err.details)}`,
      );
    }
    let list = await notifications.listNotifications({});
    for (let i = 0; i < 100 && list.notifications.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
      list = await notifications.listNotifications({});
    }
    print(`4. TicketCreated reached notifications   -> ${list.notifications.map((n) => n.text).join(', ')}`);
    print(`   trace id of the walk                  -> ${ctx.traceId}`);
    return { ticketId: ticket!.id, notifications: list.notifications.length };
  });
}
