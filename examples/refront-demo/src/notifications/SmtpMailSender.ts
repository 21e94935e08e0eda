import { RefrontError } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import type { Transporter } from 'nodemailer';
import { NotificationsReason } from './errors.js';
import { type Mail, type MailSender, messageIdOf } from './MailSender.js';

/** Options of {@link createSmtpMailSender}. */
export interface SmtpMailSenderOptions {
  /** SMTP server host. */
  readonly host: string;
  /** SMTP server port (587 submission, 465 implicit TLS, 25 relay). */
  readonly port: number;
  /** TLS from the first byte (port 465); otherwise STARTTLS when the server offers it. @default false */
  readonly secure?: boolean;
  /** Login, when the server asks for one. @default none */
  readonly auth?: { readonly user: string; readonly pass: string };
  /** The From address of every mail. */
  readonly from: string;
  /**
   * Longest wait for the connection, the greeting and each reply, in ms. Keep it well below the
   * notifications' claim lease, so a send gives up before another instance may take it over.
   * @default 10000
   */
  readonly timeoutMs?: number;
}

/**
 * A {@link MailSender} over SMTP (nodemailer, decision 0074). Each mail carries the Message-ID
 * {@link messageIdOf} (derived from the notification's event id and kind, so a resend is visible
 * as a duplicate) and the headers `X-Refront-Tenant` and `X-Refront-Notification`; it resolves
 * once the server accepted the message (250 after DATA).
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a missing host, from or a bad port.
 *   `send` rejects with RefrontError UNAVAILABLE `NOTIFICATIONS_SMTP_FAILED` (retryable) when the
 *   server is unreachable, times out or refuses the mail, and with `signal.reason` once aborted.
 * @example
 * const sender = createSmtpMailSender({ host: 'smtp.example.com', port: 587, from: 'notifications@example.com',
 *   auth: { user: 'notifications', pass: process.env.SMTP_PASSWORD ?? '' } });
 */
export function createSmtpMailSender(
  options: SmtpMailSenderOptions,
): MailSender & { close(): Promise<void> } {
  const { host, port, from } = options;
  if (typeof host !== 'string' || host.trim() === '') throw invalidOption('host must be a non-empty string');
  if (!Number.isInteger(port) || port < 1 || port > 65_535)
    throw invalidOption(`port must be 1-65535, got ${port}`);
  if (typeof from !== 'string' || from.trim() === '') throw invalidOption('from must be a mail address');
  const timeoutMs = options.timeoutMs ?? 10_000;
  if (!(timeoutMs > 0)) throw invalidOption(`timeoutMs must be > 0, got ${timeoutMs}`);
  // nodemailer is imported at the first mail, not with the module: a process that sends none
  // never loads it (decision 0143).
  let transport: Promise<Transporter> | undefined;
  const transportOf = (): Promise<Transporter> => {
    transport ??= import('nodemailer').then(({ createTransport }) =>
      createTransport({
        host,
        port,
        secure: options.secure ?? false,
        ...(options.auth ? { auth: { user: options.auth.user, pass: options.auth.pass } } : {}),
        connectionTimeout: timeoutMs,
        greetingTimeout: timeoutMs,
        socketTimeout: timeoutMs,
      }),
    );
    return transport;
  };

  const sendOnce = async (mail: Mail): Promise<void> => {
    try {
      await (await transportOf()).sendMail({
        from,
        to: mail.to,
        subject: mail.subject,
        text: mail.body,
        messageId: messageIdOf(mail),
        headers: { 'X-Refront-Tenant': mail.tenant, 'X-Refront-Notification': mail.id },
      });
    } catch (e: unknown) {
      throw new RefrontError(
        'UNAVAILABLE',
        NotificationsReason.SMTP_FAILED,
        `SMTP ${host}:${port} did not take the mail: ${e instanceof Error ? e.message : String(e)}`,
        { retryable: true, cause: e },
      );
    }
  };

  return {
    name: 'smtp',
    async send(mail, sendOptions = {}) {
      const { signal } = sendOptions;
      signal?.throwIfAborted();
      if (!signal) return sendOnce(mail);
      // nodemailer takes no signal: stop waiting once aborted. The SMTP transaction may still
      // complete, which is the at-least-once window decision 0072 describes.
      const sending = sendOnce(mail);
      sending.catch(() => {}); // still settles after an abort; nobody waits for it then
      let onAbort: (() => void) | undefined;
      const aborted = new Promise<never>((_, reject) => {
        onAbort = () => reject(signal.reason);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      try {
        return await Promise.race([sending, aborted]);
      } finally {
        if (onAbort) signal.removeEventListener('abort', onAbort);
      }
    },
    async close() {
      await transport?.then(
        (t) => t.close(),
        () => {},
      );
    },
  };
}
