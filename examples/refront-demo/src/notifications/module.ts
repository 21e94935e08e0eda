import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { type EventContext, on, RefrontError } from '@refront/core';
import { createInbox, type ModuleRuntime, pageOf, pageRequest, type ServiceModule } from '@refront/data';
import { requireTenant, Violations } from '@refront/validate';
import { TicketClassified } from '../gen/refront/ai/v1/events.js';
import { InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import {
  type Notification,
  NotificationKind,
  NotificationStatus,
  NotificationsServiceDefinition,
} from '../gen/refront/notifications/v1/notifications.js';
import { TicketResolved } from '../gen/refront/tickets/v1/events.js';
import { loadNotificationsEnv, mailFromEnv } from './config.js';
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
import { createDelivery } from './Delivery.js';
import { NotificationsReason } from './errors.js';
import type { MailReceiver } from './MailReceiver.js';
import { type MailSender, messageIdOf } from './MailSender.js';
import { notificationsMigrations } from './migrations.js';

export { NotificationsReason } from './errors.js';

/** Options of {@link createNotificationsModule}. */
export interface NotificationsModuleOptions {
  /**
   * The mail sender; the caller closes it. @default from the environment (`mailFromEnv`): SMTP to
   * SMTP_HOST, or to an SMTP receiver embedded in this process when SMTP_HOST is unset
   */
  readonly sender?: MailSender;
  /**
   * The receiver ListReceivedMail lists. @default the embedded one when the sender comes from the
   * environment without SMTP_HOST, none otherwise (the call then fails NOTIFICATIONS_NO_RECEIVER)
   */
  readonly receiver?: MailReceiver;
  /** Who gets each kind of mail. @default defaultRecipients */
  readonly recipients?: Recipients;
  /** How long a claim on a notification lasts, in ms. @default NOTIFICATIONS_LEASE_MS, else 30000 */
  readonly leaseMs?: number;
  /** Pause between sweeps of pending notifications (failed sends, lapsed claims), in ms. @default 5000 */
  readonly sweepEveryMs?: number;
  /** This instance's name in claims. @default `<name>-<host>-<pid>-<random>` */
  readonly instanceId?: string;
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
 * tenant, kind and subject drops a second event about the same fact), then claims it and mails it
 * over SMTP; only the claimer sends, a failed send frees the claim, and a sweep retries what is
 * left pending (decision 0072). Lists the tenant's notifications and the mail the receiver got.
 *
 * @throws ConfigError at registration when the NOTIFICATIONS_ or SMTP_ variables are invalid.
 * @example
 * const modules = [createNotificationsModule({ sender: createSmtpMailSender({ host, port: 587, from }) })];
 */
export function createNotificationsModule(options: NotificationsModuleOptions = {}): ServiceModule {
  return {
    name: 'notifications',
    callers: { gateway: '*' },
    migrations: notificationsMigrations,
    events: { publishes: [], consumes: [InvoiceIssued, TicketClassified, TicketResolved] },
    async register({ name, server, bus, db, metrics, logger, onClose }: ModuleRuntime) {
      const env = loadNotificationsEnv(process.env);
      const setup = options.sender
        ? { sender: options.sender, receiver: options.receiver }
        : await mailFromEnv(env);
      if (!options.sender) {
        onClose(async () => {
          await setup.sender.close?.();
          await setup.receiver?.close();
        });
        if (setup.receiver)
          logger.info({ port: setup.receiver.port }, 'no SMTP_HOST: mail goes to the embedded SMTP receiver');
      }
      const recipients = options.recipients ?? defaultRecipients;
      const inbox = createInbox({ db, group: name, metrics, logger });
      const delivery = createDelivery({
        db,
        sender: setup.sender,
        instanceId: options.instanceId ?? `${name}-${hostname()}-${process.pid}-${randomUUID().slice(0, 8)}`,
        leaseMs: options.leaseMs ?? env.NOTIFICATIONS_LEASE_MS,
        ...(options.sweepEveryMs === undefined ? {} : { sweepEveryMs: options.sweepEveryMs }),
        logger,
        metrics,
      });
      // Registered after the sender's cleanup, so it runs first (reverse order): no send after close.
      onClose(() => delivery.close());

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
        // Outside the transaction (sending is network I/O). A redelivered event or a second event
        // about the same fact finds it pending too; the claim lets only one of them send, and a
        // failed send rethrows, so the event (or else the sweep) tries again.
        const { rows } = await db.query<{ id: string }>(
          `select id from notifications where tenant_id = $1 and kind = $2 and subject_id = $3 and status = 'pending'`,
          [tenant, kind, subjectId],
        );
        if (rows[0]) await delivery.deliver(rows[0].id, context.signal);
      };

      const check = (context: EventContext, field: string, value: string, type: string) =>
        new Violations()
          .required('tenant', context.envelope.tenant, 'the envelope names no tenant')
          .required(field, value)
          .throwIfAny(NotificationsReason.BAD_EVENT, `${type} is invalid`);

      server.add(NotificationsServiceDefinition, {
        async listNotifications(request, ctx) {
          const tenant = requireTenant(ctx);
          const req = pageRequest(request.pageSize, request.pageToken);
          // An undefined kind, a subject id that is not a UUID, a page size out of range are
          // refused by the contract's rules (notifications.proto) before this runs.
          const kind = KIND_NAME.get(request.kind);
          const { rows } = await db.query<NotificationRow>(
            `select * from notifications
             where tenant_id = $1 and ($2::bigint is null or seq < $2)
               and ($3::text is null or kind = $3) and ($4::text is null or subject_id = $4)
             order by seq desc limit $5`,
            [tenant, req.before ?? null, kind ?? null, request.subjectId || null, req.limit + 1],
          );
          const { items, nextPageToken } = pageOf(rows, req.limit);
          return { notifications: items.map(toNotification), nextPageToken };
        },
        async listReceivedMail(_request, ctx) {
          const tenant = requireTenant(ctx);
          if (!setup.receiver) {
            throw new RefrontError(
              'FAILED_PRECONDITION',
              NotificationsReason.NO_RECEIVER,
              'mail goes to an outside SMTP server (SMTP_HOST): there is no receiver here to list',
              { retryable: false },
            );
          }
          const mail = setup.receiver.received().filter((m) => m.tenant === tenant);
          return {
            mail: mail.map((m) => ({
              messageId: m.messageId,
              notificationId: m.notificationId,
              from: m.from,
              to: [...m.to],
              subject: m.subject,
              receivedAt: m.receivedAt,
            })),
          };
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

      // Notifications left pending (a failed send whose event dead-lettered, a crash, a claim that
      // lapsed) go out from the sweep, at start and every sweepEveryMs.
      delivery.start();
    },
  };
}

/** The notifications service with mail and lease from the environment and the default recipients. */
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
    messageId: messageIdOf({ eventId: r.event_id, kind: r.kind }),
  };
}
