import {
  type Notification,
  NotificationKind,
  NotificationStatus,
} from '../../gen/refront/notifications/v1/notifications.js';
import { isoOrNull, nextPageToken } from '../json.js';
import { defineRoute, type Route } from '../route.js';
import { ID, type JsonSchema, pagedQuery } from '../schemas.js';

/** Notification kinds as the public API writes them. */
export const NOTIFICATION_KINDS = ['invoice_issued', 'ticket_urgent', 'ticket_resolved'] as const;
type KindJson = (typeof NOTIFICATION_KINDS)[number];

const KIND_TO_PROTO: Record<KindJson, NotificationKind> = {
  invoice_issued: NotificationKind.NOTIFICATION_KIND_INVOICE_ISSUED,
  ticket_urgent: NotificationKind.NOTIFICATION_KIND_TICKET_URGENT,
  ticket_resolved: NotificationKind.NOTIFICATION_KIND_TICKET_RESOLVED,
};
const KIND_JSON = new Map(Object.entries(KIND_TO_PROTO).map(([k, v]) => [v, k as KindJson]));

/** A notification as JSON. */
export interface NotificationJson {
  id: string;
  kind: KindJson | null;
  status: 'pending' | 'sent';
  subjectId: string;
  recipient: string;
  subject: string;
  body: string;
  eventId: string;
  createdAt: string | null;
  sentAt: string | null;
}

/** Maps the contract's Notification to its JSON. */
export function notificationJson(n: Notification): NotificationJson {
  return {
    id: n.id,
    kind: KIND_JSON.get(n.kind) ?? null,
    status: n.status === NotificationStatus.NOTIFICATION_STATUS_SENT ? 'sent' : 'pending',
    subjectId: n.subjectId,
    recipient: n.recipient,
    subject: n.subject,
    body: n.body,
    eventId: n.eventId,
    createdAt: isoOrNull(n.createdAt),
    sentAt: isoOrNull(n.sentAt),
  };
}

const NOTIFICATION: JsonSchema = {
  type: 'object',
  description: 'One mail about one fact.',
  properties: {
    id: { type: 'string' },
    kind: { type: ['string', 'null'], enum: [...NOTIFICATION_KINDS, null] },
    status: { type: 'string', enum: ['pending', 'sent'], description: 'sent once the mail sender took it.' },
    subjectId: { type: 'string', description: 'The invoice or ticket it is about.' },
    recipient: { type: 'string' },
    subject: { type: 'string' },
    body: { type: 'string' },
    eventId: { type: 'string', description: 'The event that caused it.' },
    createdAt: { type: ['string', 'null'], format: 'date-time' },
    sentAt: { type: ['string', 'null'], format: 'date-time' },
  },
  required: [
    'id',
    'kind',
    'status',
    'subjectId',
    'recipient',
    'subject',
    'body',
    'eventId',
    'createdAt',
    'sentAt',
  ],
};

interface NotificationFilters {
  pageSize: number;
  pageToken?: string;
  kind?: KindJson;
  subjectId?: string;
}

/** The notifications service: the mail it sent. */
export const notificationRoutes: readonly Route[] = [
  defineRoute<undefined, NotificationFilters>({
    method: 'GET',
    url: '/notifications',
    operationId: 'listNotifications',
    summary:
      'Page through the notifications sent (invoice issued, urgent ticket, ticket resolved), newest first',
    tag: 'notifications',
    querystring: pagedQuery({
      kind: { type: 'string', enum: NOTIFICATION_KINDS, description: 'Only this kind.' },
      subjectId: ID,
    }),
    response: {
      type: 'object',
      properties: {
        notifications: { type: 'array', items: NOTIFICATION },
        nextPageToken: { type: ['string', 'null'] },
      },
      required: ['notifications', 'nextPageToken'],
    },
    async handler({ query, call }, { notifications }) {
      const res = await notifications.listNotifications(
        {
          pageSize: query.pageSize,
          pageToken: query.pageToken ?? '',
          kind: query.kind ? KIND_TO_PROTO[query.kind] : NotificationKind.NOTIFICATION_KIND_UNSPECIFIED,
          subjectId: query.subjectId ?? '',
        },
        call,
      );
      return {
        notifications: res.notifications.map(notificationJson),
        nextPageToken: nextPageToken(res.nextPageToken),
      };
    },
  }),
  defineRoute({
    method: 'GET',
    url: '/notifications/received-mail',
    operationId: 'listReceivedMail',
    summary:
      'The mail the embedded SMTP receiver got for the tenant, oldest first: one entry per message received, so a duplicate shows as two with one messageId (FAILED_PRECONDITION when mail goes to an outside SMTP server)',
    tag: 'notifications',
    response: {
      type: 'object',
      properties: {
        mail: {
          type: 'array',
          items: {
            type: 'object',
            description: 'One message the SMTP receiver accepted.',
            properties: {
              messageId: {
                type: 'string',
                description: 'Message-ID header; the same for every send of a notification.',
              },
              notificationId: { type: 'string', description: 'The notification it carries.' },
              from: { type: 'string' },
              to: { type: 'array', items: { type: 'string' }, description: 'Envelope recipients.' },
              subject: { type: 'string' },
              receivedAt: { type: ['string', 'null'], format: 'date-time' },
            },
            required: ['messageId', 'notificationId', 'from', 'to', 'subject', 'receivedAt'],
          },
        },
      },
      required: ['mail'],
    },
    async handler({ call }, { notifications }) {
      const res = await notifications.listReceivedMail({}, call);
      return { mail: res.mail.map((m) => ({ ...m, receivedAt: isoOrNull(m.receivedAt) })) };
    },
  }),
];
