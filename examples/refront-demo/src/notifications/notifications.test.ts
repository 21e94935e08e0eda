import { randomUUID } from 'node:crypto';
import { encodeEvent } from '@refront/core/transport';
import { createEmbeddedPostgres, type EmbeddedPostgres } from '@refront/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketClassified, Urgency } from '../gen/refront/ai/v1/events.js';
import { InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import {
  NotificationKind,
  NotificationStatus,
  NotificationsServiceDefinition,
} from '../gen/refront/notifications/v1/notifications.js';
import { TicketResolved } from '../gen/refront/tickets/v1/events.js';
import { eventually, type Harness, rejection, startHarness } from '../platform/testing/harness.js';
import { formatMoney } from './content.js';
import { createNotificationsModule } from './module.js';
import { createSmtpMailSender } from './SmtpMailSender.js';
import { claims, startTestReceiver, type TestReceiver } from './testing.js';

let embedded: EmbeddedPostgres;
let receiver: TestReceiver;
let sender: ReturnType<typeof createSmtpMailSender>;
let h: Harness;

beforeAll(async () => {
  embedded = await createEmbeddedPostgres();
  receiver = await startTestReceiver();
  sender = createSmtpMailSender({
    host: receiver.host,
    port: receiver.port,
    from: 'notifications@test.example',
  });
  h = await startHarness([createNotificationsModule({ sender, receiver, sweepEveryMs: 200 })], { embedded });
});
afterAll(async () => {
  await h?.stop();
  await sender?.close();
  await receiver?.close();
  await embedded?.close();
});

/**
 * Waits until no event waits for the notifications group three looks in a row, 50 ms apart (the
 * bus counts queued events, not the ones a handler is running), as the platform's settle() does.
 */
async function drained(harness: Harness) {
  let quiet = 0;
  await eventually(async () => {
    quiet = harness.bus.pendingCount('notifications') === 0 ? quiet + 1 : 0;
    if (quiet < 3) await new Promise((r) => setTimeout(r, 50));
    return quiet >= 3 ? true : undefined;
  });
}

/** The tenant's notifications once none is pending any more. */
async function allSent(tenant: string) {
  const api = h.client(NotificationsServiceDefinition, tenant);
  return eventually(async () => {
    const { notifications } = await api.listNotifications({});
    const done = notifications.every((n) => n.status === NotificationStatus.NOTIFICATION_STATUS_SENT);
    return notifications.length > 0 && done ? notifications : undefined;
  });
}

const invoice = (invoiceId: string) => ({
  invoiceId,
  number: 'INV-000007',
  customerId: 'cust-1',
  period: '2026-05',
  currency: 'EUR',
  totalMinor: 45_917,
  totalMinutes: 290,
  lineCount: 4,
});

describe('notifications', () => {
  it('mails one message per issued invoice when InvoiceIssued is redelivered, and sent again under another id, during a slow send', async () => {
    const { envelope, body } = encodeEvent('invoicing', InvoiceIssued, invoice('inv-1'), { tenant: 'acme' });
    const invoicing = h.bus.as('invoicing');
    const release = receiver.hold('acme');
    await invoicing.publishRaw(envelope, body);
    // The first send is in flight: it reached the SMTP receiver, which holds it.
    await eventually(async () => (receiver.arrivals('acme') === 1 ? true : undefined));
    const lostBefore = await claims(h.metrics, 'lost');
    await invoicing.publishRaw(envelope, body);
    // And once more under another event id: still the same invoice, still one mail.
    await invoicing.publish(InvoiceIssued, invoice('inv-1'), { tenant: 'acme' });
    // Both reached the point of sending while the first send was held: each either lost its claim
    // or (without claims) reached the receiver too.
    await eventually(async () => {
      const attempts = (await claims(h.metrics, 'lost')) - lostBefore + receiver.arrivals('acme') - 1;
      return attempts >= 2 ? true : undefined;
    });
    release();
    const [sent] = await allSent('acme');
    await drained(h);
    const messageId = `<${envelope.id}.invoice_issued@notifications.refront>`;
    expect(receiver.countOf(messageId)).toBe(1);
    expect(receiver.of('acme')).toHaveLength(1);
    expect(receiver.of('acme')[0]).toMatchObject({
      messageId,
      notificationId: sent?.id,
      to: ['billing@acme.example'],
      from: 'notifications@test.example',
      subject: 'Invoice INV-000007 issued: EUR 459.17',
    });
    expect(receiver.of('acme')[0]?.text).toContain('4 line(s), 4 h 50 min, total EUR 459.17');
    expect(sent).toMatchObject({
      kind: NotificationKind.NOTIFICATION_KIND_INVOICE_ISSUED,
      subjectId: 'inv-1',
      eventId: envelope.id,
      messageId,
    });
    expect(sent?.sentAt).toBeInstanceOf(Date);
    const { mail } = await h.client(NotificationsServiceDefinition, 'acme').listReceivedMail({});
    expect(mail.map((m) => [m.messageId, m.notificationId, m.to])).toEqual([
      [messageId, sent?.id, ['billing@acme.example']],
    ]);
  });

  it('tells about urgent classifications only, and about resolved tickets', async () => {
    // Ticket ids are UUIDs: the subject_id filter below is checked against the contract.
    const urgentId = randomUUID();
    const calmId = randomUUID();
    const ai = h.bus.as('ai');
    await ai.publish(
      TicketClassified,
      {
        ticketId: urgentId,
        category: 'outage',
        urgency: Urgency.URGENCY_URGENT,
        summary: 'Checkout is down.',
      },
      { tenant: 'globex' },
    );
    await ai.publish(
      TicketClassified,
      { ticketId: calmId, category: 'feature', urgency: Urgency.URGENCY_HIGH, summary: 'Dark mode.' },
      { tenant: 'globex' },
    );
    await h.bus
      .as('tickets')
      .publish(
        TicketResolved,
        { ticketId: calmId, customerId: 'c', resolution: 'Shipped.' },
        { tenant: 'globex' },
      );
    const api = h.client(NotificationsServiceDefinition, 'globex');
    await eventually(async () =>
      (await api.listNotifications({})).notifications.length === 2 ? true : undefined,
    );
    await drained(h);
    const { notifications } = await api.listNotifications({});
    expect(notifications.map((n) => [n.kind, n.subjectId, n.recipient])).toEqual([
      [NotificationKind.NOTIFICATION_KIND_TICKET_RESOLVED, calmId, 'support@globex.example'],
      [NotificationKind.NOTIFICATION_KIND_TICKET_URGENT, urgentId, 'oncall@globex.example'],
    ]);
    expect(notifications[1]?.body).toContain('Checkout is down.');
    // What the SMTP receiver got: one message per notification, the calm classification none.
    await allSent('globex');
    expect(receiver.of('globex').map((m) => [m.messageId, m.to])).toEqual(
      [...notifications].reverse().map((n) => [n.messageId, [n.recipient]]),
    );
    const urgent = await api.listNotifications({ kind: NotificationKind.NOTIFICATION_KIND_TICKET_URGENT });
    expect(urgent.notifications.map((n) => n.subjectId)).toEqual([urgentId]);
    const about = await api.listNotifications({ subjectId: calmId });
    expect(about.notifications).toHaveLength(1);
    // Tenant-scoped: acme sees only its own.
    const acme = await h.client(NotificationsServiceDefinition, 'acme').listNotifications({});
    expect(acme.notifications.every((n) => n.subjectId === 'inv-1')).toBe(true);
  });

  it('pages newest first and rejects a bad filter or token', async () => {
    const invoicing = h.bus.as('invoicing');
    const api = h.client(NotificationsServiceDefinition, 'pager');
    // One at a time, so the newest-first order is the publish order.
    for (let i = 0; i < 5; i++) {
      await invoicing.publish(InvoiceIssued, invoice(`page-${i}`), { tenant: 'pager' });
      await eventually(async () =>
        (await api.listNotifications({})).notifications.length === i + 1 ? true : undefined,
      );
    }
    const first = await api.listNotifications({ pageSize: 3 });
    const second = await api.listNotifications({ pageSize: 3, pageToken: first.nextPageToken });
    expect(first.notifications.map((n) => n.subjectId)).toEqual(['page-4', 'page-3', 'page-2']);
    expect(second.notifications.map((n) => n.subjectId)).toEqual(['page-1', 'page-0']);
    expect(second.nextPageToken).toBe('');
    // Refused by notifications.proto's rules before the handler, each field and rule named.
    const bad = await rejection(
      api.listNotifications({
        kind: 99 as NotificationKind,
        subjectId: 'inv-1',
        pageSize: 101,
        pageToken: 'x'.repeat(513),
      }),
    );
    expect([bad.status, bad.reason]).toEqual(['INVALID_ARGUMENT', 'CORE_INVALID_MESSAGE']);
    expect(bad.details.fieldViolations?.map((v) => `${v.field} ${v.reason}`).sort()).toEqual([
      'kind enum.defined_only',
      'page_size int32.gte_lte',
      'page_token string.max_len',
      'subject_id string.uuid',
    ]);
    // A token of the right size that does not decode is the handler's to refuse.
    const token = await rejection(api.listNotifications({ pageToken: 'garbage' }));
    expect([token.status, token.reason]).toEqual(['INVALID_ARGUMENT', 'DATA_INVALID_PAGE']);
  });

  it('dead-letters an event without a tenant or subject at once', async () => {
    await h.bus.as('invoicing').publish(InvoiceIssued, { invoiceId: '' }, { tenant: 'acme' });
    const dead = await eventually(async () =>
      h.bus.deadLetters('notifications').find((d) => d.envelope.type === InvoiceIssued.$type),
    );
    expect([dead.reason, dead.attempts]).toEqual(['NOTIFICATIONS_BAD_EVENT', 1]);
  });

  it('mails once, later, what the SMTP server refused once', async () => {
    receiver.refuse('flaky', 1);
    const { envelope, body } = encodeEvent('invoicing', InvoiceIssued, invoice('inv-flaky'), {
      tenant: 'flaky',
    });
    await h.bus.as('invoicing').publishRaw(envelope, body);
    const [sent] = await allSent('flaky');
    await drained(h);
    // The refusal hit a send in flight: two messages reached the server, it accepted the second.
    expect(receiver.arrivals('flaky')).toBe(2);
    expect(receiver.countOf(`<${envelope.id}.invoice_issued@notifications.refront>`)).toBe(1);
    expect(receiver.of('flaky').map((m) => m.notificationId)).toEqual([sent?.id]);
  });

  it('lists received mail per tenant only', async () => {
    const { mail } = await h.client(NotificationsServiceDefinition, 'nobody').listReceivedMail({});
    expect(mail).toEqual([]);
  });

  it('answers NOTIFICATIONS_NO_RECEIVER when mail goes to an outside SMTP server', async () => {
    const outside = await startHarness([createNotificationsModule({ sender })]);
    try {
      const error = await rejection(
        outside.client(NotificationsServiceDefinition, 'acme').listReceivedMail({}),
      );
      expect([error.status, error.reason]).toEqual(['FAILED_PRECONDITION', 'NOTIFICATIONS_NO_RECEIVER']);
    } finally {
      await outside.stop();
    }
  });

  it('formats money from minor units exactly', () => {
    expect(formatMoney(45_917, 'EUR')).toBe('EUR 459.17');
    expect(formatMoney(5, 'USD')).toBe('USD 0.05');
    expect(formatMoney(-1_050, 'EUR')).toBe('EUR -10.50');
  });
});
