import { isRefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import { rejection } from '../platform/testing/harness.js';
import { loadNotificationsEnv, mailFromEnv } from './config.js';
import { startMailReceiver } from './MailReceiver.js';
import type { Mail } from './MailSender.js';
import { createSmtpMailSender } from './SmtpMailSender.js';
import { startTestReceiver } from './testing.js';

const mail = (tenant: string): Mail => ({
  id: 'n-1',
  eventId: '0190f00d-feed-7000-8000-000000000001',
  kind: 'ticket_urgent',
  tenant,
  to: 'oncall@acme.example',
  subject: 'Urgent ticket 0190f00d (outage) – naïve café',
  body: 'Checkout is down.\nSummary: ünïcode survives.',
});

describe('SMTP mail sender', () => {
  it('delivers the mail with a Message-ID from the event id and kind, and the tenant and notification headers', async () => {
    await using receiver = await startMailReceiver();
    const sender = createSmtpMailSender({
      host: receiver.host,
      port: receiver.port,
      from: 'n@refront.example',
    });
    await sender.send(mail('acme'));
    await sender.close();
    expect(receiver.received()).toEqual([
      expect.objectContaining({
        messageId: '<0190f00d-feed-7000-8000-000000000001.ticket_urgent@notifications.refront>',
        notificationId: 'n-1',
        tenant: 'acme',
        from: 'n@refront.example',
        to: ['oncall@acme.example'],
        subject: 'Urgent ticket 0190f00d (outage) – naïve café',
        text: 'Checkout is down.\nSummary: ünïcode survives.\n',
      }),
    ]);
  });

  it('rejects with NOTIFICATIONS_SMTP_FAILED when the server refuses the mail or cannot be reached', async () => {
    await using receiver = await startTestReceiver();
    receiver.refuse('acme', 1);
    const sender = createSmtpMailSender({
      host: receiver.host,
      port: receiver.port,
      from: 'n@refront.example',
    });
    const refused = await rejection(sender.send(mail('acme')));
    expect([refused.status, refused.reason, refused.retryable]).toEqual([
      'UNAVAILABLE',
      'NOTIFICATIONS_SMTP_FAILED',
      true,
    ]);
    expect(refused.message).toContain('451');
    await receiver.close();
    const unreachable = await rejection(sender.send(mail('acme')));
    expect(unreachable.reason).toBe('NOTIFICATIONS_SMTP_FAILED');
    expect(receiver.received()).toEqual([]);
  });

  it('stops waiting once aborted, with the signal reason', async () => {
    await using receiver = await startTestReceiver();
    const release = receiver.hold('acme');
    const sender = createSmtpMailSender({
      host: receiver.host,
      port: receiver.port,
      from: 'n@refront.example',
    });
    const controller = new AbortController();
    const sending = sender.send(mail('acme'), { signal: controller.signal });
    await expect.poll(() => receiver.arrivals('acme')).toBe(1);
    const reason = new Error('shutting down');
    controller.abort(reason);
    await expect(sending).rejects.toBe(reason);
    release();
  });

  it('refuses options it cannot use', () => {
    for (const bad of [
      { host: '', port: 25, from: 'n@x' },
      { host: 'h', port: 0, from: 'n@x' },
      { host: 'h', port: 25, from: '' },
      { host: 'h', port: 25, from: 'n@x', timeoutMs: 0 },
    ]) {
      let error: unknown;
      try {
        createSmtpMailSender(bad);
      } catch (e: unknown) {
        error = e;
      }
      expect(isRefrontError(error) && error.reason).toBe('CORE_INVALID_OPTION');
    }
  });
});

describe('mail from the environment', () => {
  it('reads defaults, with blank values as unset', () => {
    expect(loadNotificationsEnv({ SMTP_HOST: ' ', SMTP_PORT: '' })).toEqual({
      SMTP_PORT: 587,
      SMTP_SECURE: false,
      SMTP_FROM: 'notifications@refront.example',
      NOTIFICATIONS_LEASE_MS: 30_000,
    });
  });

  it('lists every invalid variable at once', () => {
    let error: unknown;
    try {
      loadNotificationsEnv({ SMTP_PORT: '70000', SMTP_USER: 'me', NOTIFICATIONS_LEASE_MS: '5' });
    } catch (e: unknown) {
      error = e;
    }
    expect(isRefrontError(error) && error.reason).toBe('CORE_INVALID_CONFIG');
    const fields = (isRefrontError(error) ? (error.details.fieldViolations ?? []) : []).map((v) => v.field);
    expect(fields.sort()).toEqual(['NOTIFICATIONS_LEASE_MS', 'SMTP_PASSWORD', 'SMTP_PORT']);
  });

  it('without SMTP_HOST, starts an embedded receiver the sender delivers to', async () => {
    const { sender, receiver } = await mailFromEnv(loadNotificationsEnv({}));
    try {
      await sender.send(mail('acme'));
      expect(receiver?.received().map((m) => m.from)).toEqual(['notifications@refront.example']);
    } finally {
      await sender.close?.();
      await receiver?.close();
    }
  });

  it('with SMTP_HOST, sends there and embeds no receiver', async () => {
    await using outside = await startMailReceiver();
    const { sender, receiver } = await mailFromEnv(
      loadNotificationsEnv({
        SMTP_HOST: outside.host,
        SMTP_PORT: String(outside.port),
        SMTP_FROM: 'ops@x.example',
      }),
    );
    await sender.send(mail('acme'));
    await sender.close?.();
    expect(receiver).toBeUndefined();
    expect(outside.received().map((m) => m.from)).toEqual(['ops@x.example']);
  });
});
