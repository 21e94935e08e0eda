import { randomUUID } from 'node:crypto';
import { type EventContext, on } from '@refront/core';
import { createInbox, type Database } from '@refront/data';
import { TicketClassified } from '../gen/refront/ai/v1/events.js';
import { InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import {
  type Notification,
  NotificationKind,
  NotificationStatus,
  NotificationsServiceDefinition,
} from '../gen/refront/notifications/v1/notifications.js';
import { TicketResolved } from '../gen/refront/tickets/v1/events.js';
import { blank, requireTenant, Violations } from '../platform/errors.js';
import type { ModuleRuntime, ServiceModule } from '../platform/module.js';
import { page, pageRequest } from '../platform/paging.js';
import {
  type Content,
  defaultRecipients,
  invoiceIssuedMail,
  isUrgent,
  type Kind,
  type Recipients,
  ticketResolvedMail,
  urgentTicketMail,
} from './content.js';
import { createTableMailSender, type MailSender } from './MailSender.js';
import { notificationsMigrations } from './migrations.js';

/** Reason codes of the notifications service. */
export const NotificationsReason = {
  /** An event names no tenant or no invoice/ticket (dead-lettered at once). */
  BAD_EVENT: 'NOTIFICATIONS_BAD_EVENT',
  /** A list filter is invalid. */
  INVALID_FILTER: 'NOTIFICATIONS_INVALID_FILTER',
} as const;

/** Options of {@link createNotificationsModule}. */
export interface NotificationsModuleOptions {
  /** The mail sender, or a factory given the service's database. @default createTableMailSender */
  readonly sender?: MailSender | ((db: Database) => MailSender);
  /** Who gets each kind of mail. @default defaultRecipients */
  readonly recipients?: Recipients;
}

interface NotificationRow {
  seq: number;
  id: string;
  tenant_id: string;
  kind: Kind;
  subject_id: string;
  recipient: string;
  subject: string;
  body: string;
  event_id: string;
  status: 'pending' | 'sent';
  created_at: Date;
  sent_at: Date | null;
}

const KIND_OF: Record<Kind, NotificationKind> = {
  invoice_issued: NotificationKind.NOTIFICATION_KIND_INVOICE_ISSUED,
  ticket_urgent: NotificationKind.NOTIFICATION_KIND_TICKET_URGENT,
  ticket_resolved: NotificationKind.NOTIFICATION_KIND_TICKET_RESOLVED,
};
const KIND_NAME = new Map<NotificationKind, Kind>(
  Object.entries(KIND_OF).map(([name, kind]) => [kind, name as Kind]),
);

/**
 * The notifications service: on InvoiceIssued, TicketClassified (urgent only) and TicketResolved,
 * records one notification per fact (its inbox drops a redelivered event; a unique key on
 * tenant, kind and subject drops a second event about the same fact) and hands it to the mail
 * sender, retrying until the sender took it. Lists the tenant's notifications.
 *
 * @example
 * const modules = [createNotificationsModule({ sender: smtpSender })];
 */
export function createNotificationsModule(options: NotificationsModuleOptions = {}): ServiceModule {
  return {
    name: 'notifications',
    migrations: notificationsMigrations,
    async register({ name, server, bus, db, metrics, logger }: ModuleRuntime) {
      const sender =
        typeof options.sender === 'function'
          ? options.sender(db)
          : (options.sender ?? createTableMailSender(db));
      const recipients = options.recipients ?? defaultRecipients;
      const inbox = createInbox({ db, group: name, metrics, logger });

      /** Sends a pending notification; marks it sent, or records the failure and rethrows. */
      const deliver = async (row: NotificationRow, signal?: AbortSignal): Promise<void> => {
        try {
          await sender.send(
            { id: row.id, tenant: row.tenant_id, to: row.recipient, subject: row.subject, body: row.body },
            { signal },
          );
        } catch (e: unknown) {
          await db.query(`update notifications set attempts = attempts + 1, last_error = $2 where id = $1`, [
            row.id,
            String(e).slice(0, 500),
          ]);
          throw e;
        }
        await db.query(
          `update notifications set status = 'sent', sent_at = now(), attempts = attempts + 1, last_error = ''
           where id = $1 and status = 'pending'`,
          [row.id],
        );
      };

      /** Records the notification of one fact (once), then delivers it if it is still pending. */
      const notify = async (context: EventContext, kind: Kind, subjectId: string, content: Content) => {
        const tenant = context.envelope.tenant ?? '';
        await inbox.handleOnce(context.envelope, async (tx) => {
          await tx.query(
            `insert into notifications (id, tenant_id, kind, subject_id, recipient, subject, body, event_id)
             values ($1, $2, $3, $4, $5, $6, $7, $8) on conflict (tenant_id, kind, subject_id) do nothing`,
            [
              randomUUID(),
              tenant,
              kind,
              subjectId,
              recipients(tenant, kind),
              content.subject,
              content.body,
              context.envelope.id,
            ],
          );
        });
        // Outside the transaction: a real sender does I/O, and a retry of this event (after a failed
        // send) finds the notification still pending and sends it then.
        const { rows } = await db.query<NotificationRow>(
          `select * from notifications where tenant_id = $1 and kind = $2 and subject_id = $3 and status = 'pending'`,
          [tenant, kind, subjectId],
        );
        if (rows[0]) await deliver(rows[0], context.signal);
      };

      const check = (context: EventContext, field: string, value: string, type: string) =>
        new Violations()
          .check(blank(context.envelope.tenant), 'tenant', 'the envelope names no tenant')
          .check(blank(value), field, 'must not be empty')
          .throwIfAny(NotificationsReason.BAD_EVENT, `${type} is invalid`);

      server.add(NotificationsServiceDefinition, {
        async listNotifications(request, ctx) {
          const tenant = requireTenant(ctx.tenant);
          const req = pageRequest(request.pageSize, request.pageToken);
          const kind = KIND_NAME.get(request.kind);
          new Violations()
            .check(
              request.kind !== NotificationKind.NOTIFICATION_KIND_UNSPECIFIED && kind === undefined,
              'kind',
              'must be invoice_issued, ticket_urgent or ticket_resolved',
            )
            .throwIfAny(NotificationsReason.INVALID_FILTER, 'the filter is invalid');
          const { rows } = await db.query<NotificationRow>(
            `select * from notifications
             where tenant_id = $1 and ($2::bigint is null or seq < $2)
               and ($3::text is null or kind = $3) and ($4::text is null or subject_id = $4)
             order by seq desc limit $5`,
            [tenant, req.before ?? null, kind ?? null, request.subjectId || null, req.limit + 1],
          );
          const { items, nextPageToken } = page(rows, req.limit);
          return { notifications: items.map(toNotification), nextPageToken };
        },
      });

      await bus.subscribe(name, [
        on(InvoiceIssued, async (event, context) => {
          check(context, 'invoiceId', event.invoiceId, 'InvoiceIssued');
          await notify(context, 'invoice_issued', event.invoiceId, invoiceIssuedMail(event));
        }),
        on(TicketClassified, async (event, context) => {
          if (!isUrgent(event)) return;
          check(context, 'ticketId', event.ticketId, 'TicketClassified');
          await notify(context, 'ticket_urgent', event.ticketId, urgentTicketMail(event));
        }),
        on(TicketResolved, async (event, context) => {
          check(context, 'ticketId', event.ticketId, 'TicketResolved');
          await notify(context, 'ticket_resolved', event.ticketId, ticketResolvedMail(event));
        }),
      ]);

      // Notifications left pending (their event dead-lettered after the sender kept failing, or a
      // crash) go out at the next start.
      const { rows: pending } = await db.query<NotificationRow>(
        `select * from notifications where status = 'pending' order by seq limit 1000`,
      );
      for (const row of pending) {
        await deliver(row).catch((e: unknown) =>
          logger.warn({ err: e, notificationId: row.id }, 'a pending notification still cannot be sent'),
        );
      }
    },
  };
}

/** The notifications service with the default sender (its sent_mail table) and recipients. */
export const notificationsModule: ServiceModule = createNotificationsModule();

function toNotification(r: NotificationRow): Notification {
  return {
    id: r.id,
    kind: KIND_OF[r.kind],
    status:
      r.status === 'sent'
        ? NotificationStatus.NOTIFICATION_STATUS_SENT
        : NotificationStatus.NOTIFICATION_STATUS_PENDING,
    subjectId: r.subject_id,
    recipient: r.recipient,
    subject: r.subject,
    body: r.body,
    eventId: r.event_id,
    createdAt: r.created_at,
    sentAt: r.sent_at ?? undefined,
  };
}
