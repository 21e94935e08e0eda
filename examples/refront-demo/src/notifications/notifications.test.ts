import { encodeEvent, isRefrontError } from '@refront/core';
import { createEmbeddedPostgres, type EmbeddedPostgres, openDatabase } from '@refront/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TicketClassified, Urgency } from '../gen/refront/ai/v1/events.js';
import { InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import {
  NotificationKind,
  NotificationStatus,
  NotificationsServiceDefinition,
} from '../gen/refront/notifications/v1/notifications.js';
import { TicketResolved } from '../gen/refront/tickets/v1/events.js';
import { eventually, type Harness, startHarness } from '../platform/testing/harness.js';
import { formatMoney } from './content.js';
import type { Mail, MailSender } from './MailSender.js';
import { createNotificationsModule, notificationsModule } from './module.js';

let embedded: EmbeddedPostgres;
let h: Harness;

beforeAll(async () => {
  embedded = await createEmbeddedPostgres();
  h = await startHarness([notificationsModule], { embedded });
});
afterAll(async () => {
  await h?.stop();
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

/** Reads the default sender's table, as an operator would. */
async function sentMail(tenant: string) {
  const db = await openDatabase({ schema: 'notifications', embedded });
  try {
    const { rows } = await db.query<{ message_id: string; recipient: string; subject: string }>(
      'select message_id, recipient, subject from sent_mail where tenant_id = $1 order by sent_at',
      [tenant],
    );
    return rows;
  } finally {
    await db.close();
  }
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
  it('sends one mail per issued invoice even when InvoiceIssued is delivered twice', async () => {
    const { envelope, body } = encodeEvent('invoicing', InvoiceIssued, invoice('inv-1'), { tenant: 'acme' });
    const invoicing = h.bus.as('invoicing');
    await invoicing.publishRaw(envelope, body);
    await invoicing.publishRaw(envelope, body);
    // And once more under another event id: still the same invoice, still one mail.
    await invoicing.publish(InvoiceIssued, invoice('inv-1'), { tenant: 'acme' });
    await eventually(async () => ((await sentMail('acme')).length > 0 ? true : undefined));
    await drained(h);
    const mail = await sentMail('acme');
    expect(mail).toHaveLength(1);
    expect(mail[0]).toMatchObject({
      recipient: 'billing@acme.example',
      subject: 'Invoice INV-000007 issued: EUR 459.17',
    });
    const { notifications } = await h.client(NotificationsServiceDefinition, 'acme').listNotifications({});
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({
      kind: NotificationKind.NOTIFICATION_KIND_INVOICE_ISSUED,
      status: NotificationStatus.NOTIFICATION_STATUS_SENT,
      subjectId: 'inv-1',
      eventId: envelope.id,
      id: mail[0]?.message_id,
    });
    expect(notifications[0]?.body).toContain('4 line(s), 4 h 50 min, total EUR 459.17');
    expect(notifications[0]?.sentAt).toBeInstanceOf(Date);
  });

  it('tells about urgent classifications only, and about resolved tickets', async () => {
    const ai = h.bus.as('ai');
    await ai.publish(
      TicketClassified,
      {
        ticketId: 'ticket-urgent',
        category: 'outage',
        urgency: Urgency.URGENCY_URGENT,
        summary: 'Checkout is down.',
      },
      { tenant: 'globex' },
    );
    await ai.publish(
      TicketClassified,
      { ticketId: 'ticket-calm', category: 'feature', urgency: Urgency.URGENCY_HIGH, summary: 'Dark mode.' },
      { tenant: 'globex' },
    );
    await h.bus
      .as('tickets')
      .publish(
        TicketResolved,
        { ticketId: 'ticket-calm', customerId: 'c', resolution: 'Shipped.' },
        { tenant: 'globex' },
      );
    const api = h.client(NotificationsServiceDefinition, 'globex');
    await eventually(async () =>
      (await api.listNotifications({})).notifications.length === 2 ? true : undefined,
    );
    await drained(h);
    const { notifications } = await api.listNotifications({});
    expect(notifications.map((n) => [n.kind, n.subjectId, n.recipient])).toEqual([
      [NotificationKind.NOTIFICATION_KIND_TICKET_RESOLVED, 'ticket-calm', 'support@globex.example'],
      [NotificationKind.NOTIFICATION_KIND_TICKET_URGENT, 'ticket-urgent', 'oncall@globex.example'],
    ]);
    expect(notifications[1]?.body).toContain('Checkout is down.');
    const urgent = await api.listNotifications({ kind: NotificationKind.NOTIFICATION_KIND_TICKET_URGENT });
    expect(urgent.notifications.map((n) => n.subjectId)).toEqual(['ticket-urgent']);
    const about = await api.listNotifications({ subjectId: 'ticket-calm' });
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
    const bad = await api.listNotifications({ kind: 99 as NotificationKind }).catch((e: unknown) => e);
    expect(isRefrontError(bad) && bad.reason).toBe('NOTIFICATIONS_INVALID_FILTER');
    const token = await api.listNotifications({ pageToken: 'garbage' }).catch((e: unknown) => e);
    expect(isRefrontError(token) && token.status).toBe('INVALID_ARGUMENT');
  });

  it('dead-letters an event without a tenant or subject at once', async () => {
    await h.bus.as('invoicing').publish(InvoiceIssued, { invoiceId: '' }, { tenant: 'acme' });
    const dead = await eventually(async () =>
      h.bus.deadLetters('notifications').find((d) => d.envelope.type === InvoiceIssued.$type),
    );
    expect([dead.reason, dead.attempts]).toEqual(['NOTIFICATIONS_BAD_EVENT', 1]);
  });

  it('retries a failing mail sender and sends once it recovers; a duplicate send is not repeated', async () => {
    const sent: Mail[] = [];
    let failures = 1;
    const flaky: MailSender = {
      name: 'flaky',
      async send(mail) {
        if (failures-- > 0) throw new Error('smtp 421 try again later');
        sent.push(mail);
      },
    };
    const alone = await startHarness([createNotificationsModule({ sender: flaky })]);
    try {
      const { envelope, body } = encodeEvent('invoicing', InvoiceIssued, invoice('inv-flaky'), {
        tenant: 'flaky',
      });
      await alone.bus.as('invoicing').publishRaw(envelope, body);
      await eventually(async () => (sent.length > 0 ? true : undefined));
      await alone.bus.as('invoicing').publishRaw(envelope, body);
      await drained(alone);
      expect(sent.map((m) => m.to)).toEqual(['billing@flaky.example']);
      const { notifications } = await alone
        .client(NotificationsServiceDefinition, 'flaky')
        .listNotifications({});
      expect(notifications[0]?.status).toBe(NotificationStatus.NOTIFICATION_STATUS_SENT);
      expect(notifications[0]?.id).toBe(sent[0]?.id);
    } finally {
      await alone.stop();
    }
  });

  it('formats money from minor units exactly', () => {
    expect(formatMoney(45_917, 'EUR')).toBe('EUR 459.17');
    expect(formatMoney(5, 'USD')).toBe('USD 0.05');
    expect(formatMoney(-1_050, 'EUR')).toBe('EUR -10.50');
  });
});
