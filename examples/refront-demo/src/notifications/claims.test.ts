/**
 * Claim before send, on real PostgreSQL: two notifications instances on one database race for the
 * same notifications, and a claim left by a crashed instance is taken over once its lease lapses.
 * Every assertion counts what the SMTP receiver got per Message-ID.
 */
import { randomUUID } from 'node:crypto';
import { createLogger } from '@refront/core';
import { encodeEvent } from '@refront/core/transport';
import { createEmbeddedPostgres, type Database, openDatabase } from '@refront/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DATABASE_SERVER_URL, infrastructure } from '../../test/topology.js';
import { InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import { eventually, type Harness, startHarness } from '../platform/testing/harness.js';
import { createDelivery } from './Delivery.js';
import type { MailSender } from './MailSender.js';
import { notificationsMigrations } from './migrations.js';
import { createNotificationsModule } from './module.js';
import { createSmtpMailSender } from './SmtpMailSender.js';
import { claims, startTestReceiver, type TestReceiver } from './testing.js';

const logger = createLogger({ service: 'test', level: 'silent' });
let receiver: TestReceiver;
let sender: ReturnType<typeof createSmtpMailSender>;

beforeAll(async () => {
  receiver = await startTestReceiver();
  sender = createSmtpMailSender({ host: receiver.host, port: receiver.port, from: 'n@test.example' });
});
afterAll(async () => {
  await sender?.close();
  await receiver?.close();
});

const ready = await infrastructure('the notifications race on PostgreSQL');

describe.runIf(ready)('two notifications instances on one PostgreSQL database', () => {
  const name = `refront_notif_race_${process.pid}_${randomUUID().slice(0, 6)}`;
  const url = new URL(DATABASE_SERVER_URL);
  url.pathname = `/${name}`;
  const admin = () => openDatabase({ schema: 'refront_test_admin', url: DATABASE_SERVER_URL, poolSize: 1 });

  beforeAll(async () => {
    const db = await admin();
    try {
      await db.query(`create database ${name}`);
    } finally {
      await db.close();
    }
  });
  afterAll(async () => {
    const db = await admin();
    try {
      await db.query(`drop database if exists ${name} with (force)`);
    } finally {
      await db.close();
    }
  });

  it('send each notification once when both get every event and sweep the same pending rows', async () => {
    const tenant = 'race';
    // A slow SMTP server: each send stays in flight while the other instance reaches the same row.
    receiver.slow(tenant, 40);
    const start = (id: string) =>
      startHarness([createNotificationsModule({ sender, instanceId: id, sweepEveryMs: 20 })], {
        url: url.toString(),
      });
    const instances: Harness[] = [];
    const stopped: Harness[] = [];
    try {
      instances.push(await start('instance-a'));
      instances.push(await start('instance-b'));
      const events = Array.from({ length: 12 }, (_, i) =>
        encodeEvent(
          'invoicing',
          InvoiceIssued,
          { invoiceId: `inv-${i}`, number: `INV-${i}`, currency: 'EUR', totalMinor: 100 * i },
          { tenant },
        ),
      );
      // Every event reaches both instances, as a redelivery to another consumer does.
      await Promise.all(
        events.flatMap(({ envelope, body }) =>
          instances.map((h) => h.bus.as('invoicing').publishRaw(envelope, body)),
        ),
      );
      const db = await openDatabase({ schema: 'notifications', url: url.toString(), poolSize: 1 });
      try {
        await eventually(
          async () => {
            const { rows } = await db.query<{ n: number }>(
              `select count(*)::int as n from notifications where tenant_id = $1 and status = 'sent'`,
              [tenant],
            );
            return rows[0]?.n === events.length ? true : undefined;
          },
          { timeoutMs: 20_000 },
        );
      } finally {
        await db.close();
      }
      // Stopped, so no sweep or redelivery can still send: what the receiver has is final.
      for (const h of instances.splice(0)) {
        await h.stop();
        stopped.push(h);
      }
      // Both instances went for the same rows: claims were lost (the race happened).
      const lost = (await Promise.all(stopped.map((h) => claims(h.metrics, 'lost')))).reduce((a, b) => a + b);
      expect(lost).toBeGreaterThan(0);
      for (const { envelope } of events) {
        expect(receiver.countOf(`<${envelope.id}.invoice_issued@notifications.refront>`)).toBe(1);
      }
      expect(receiver.of(tenant)).toHaveLength(events.length);
    } finally {
      for (const h of instances) await h.stop();
    }
  });
});

describe('a claim left by a crashed instance', () => {
  let db: Database;
  beforeAll(async () => {
    const embedded = await createEmbeddedPostgres();
    db = await openDatabase({ schema: 'notifications', embedded, migrations: notificationsMigrations });
    return async () => {
      await db.close();
      await embedded.close();
    };
  });

  it('is left alone while its lease runs and taken over once it lapsed', async () => {
    const tenant = 'crashed';
    const eventId = randomUUID();
    await db.query(
      `insert into notifications (id, tenant_id, kind, subject_id, recipient, subject, body, event_id,
                                  claimed_by, claimed_until)
       values ($1, $2, 'ticket_resolved', 't-1', 'support@crashed.example', 'Ticket t-1 resolved', 'Done.', $3,
               'crashed-instance', now() + interval '1 hour')`,
      [randomUUID(), tenant, eventId],
    );
    const delivery = createDelivery({ db, sender, instanceId: 'survivor', leaseMs: 30_000, logger });
    try {
      expect(await delivery.sweep()).toBe(0);
      expect(receiver.arrivals(tenant)).toBe(0);
      // The crashed instance's lease runs out.
      await db.query(
        `update notifications set claimed_until = now() - interval '1 second' where tenant_id = $1`,
        [tenant],
      );
      expect(await delivery.sweep()).toBe(1);
      expect(await delivery.sweep()).toBe(0);
    } finally {
      await delivery.close();
    }
    expect(receiver.countOf(`<${eventId}.ticket_resolved@notifications.refront>`)).toBe(1);
    const { rows } = await db.query<{ status: string; sent_by: string; claimed_by: string | null }>(
      'select status, sent_by, claimed_by from notifications where tenant_id = $1',
      [tenant],
    );
    expect(rows).toEqual([{ status: 'sent', sent_by: 'survivor', claimed_by: null }]);
  });

  it('sends again after a crash between the server accepting and the mark: a duplicate with one Message-ID', async () => {
    const tenant = 'window';
    const eventId = randomUUID();
    const id = randomUUID();
    await db.query(
      `insert into notifications (id, tenant_id, kind, subject_id, recipient, subject, body, event_id)
       values ($1, $2, 'invoice_issued', 'inv-w', 'billing@window.example', 'Invoice issued', 'Paid.', $3)`,
      [id, tenant, eventId],
    );
    // Instance a's SMTP server accepts the mail, then a hangs as good as dead: never marks it sent.
    const dying: MailSender = {
      name: 'dies-after-250',
      async send(mail, options = {}) {
        await sender.send(mail);
        await new Promise((_, reject) =>
          options.signal?.addEventListener('abort', () => reject(options.signal?.reason), { once: true }),
        );
      },
    };
    const a = createDelivery({ db, sender: dying, instanceId: 'a', leaseMs: 30_000, logger });
    const b = createDelivery({ db, sender, instanceId: 'b', leaseMs: 30_000, logger });
    const messageId = `<${eventId}.invoice_issued@notifications.refront>`;
    try {
      const first = a.deliver(id).catch((e: unknown) => e);
      await expect.poll(() => receiver.countOf(messageId)).toBe(1);
      expect(await b.sweep()).toBe(0); // a's claim is live
      await db.query(`update notifications set claimed_until = now() - interval '1 second' where id = $1`, [
        id,
      ]);
      expect(await b.sweep()).toBe(1);
      await a.close();
      expect(await first).toBeInstanceOf(Error);
    } finally {
      await a.close();
      await b.close();
    }
    // At least once over SMTP: the receiver got it twice, and the one Message-ID shows it.
    expect(receiver.countOf(messageId)).toBe(2);
    const { rows } = await db.query<{ status: string; sent_by: string }>(
      'select status, sent_by from notifications where id = $1',
      [id],
    );
    expect(rows).toEqual([{ status: 'sent', sent_by: 'b' }]);
  });
});
