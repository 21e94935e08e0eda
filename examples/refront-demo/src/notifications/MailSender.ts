import type { Kind } from './content.js';

/** One mail to send: one notification. */
export interface Mail {
  /** The notification's id (header `X-Refront-Notification`). */
  readonly id: string;
  /** Id of the event that recorded the notification; with `kind`, it makes the Message-ID. */
  readonly eventId: string;
  readonly kind: Kind;
  /** Tenant it belongs to (header `X-Refront-Tenant`). */
  readonly tenant: string;
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

/**
 * Sends mail. The notifications service sends each mail once per claim and marks it sent after;
 * a crash between the mail server accepting it and that mark sends it again, with the same
 * Message-ID ({@link messageIdOf}), so the duplicate is visible to the receiver (decision 0072).
 *
 * @example
 * const sender: MailSender = createSmtpMailSender({ host: 'smtp.example.com', port: 587, from: 'n@example.com' });
 */
export interface MailSender {
  /** Short name for logs. */
  readonly name: string;
  /**
   * Sends `mail`; resolves once the mail server accepted it.
   * @throws any error when it could not, or `signal.reason` once aborted; the notification stays
   *   pending, its claim is released, and it is sent again.
   */
  send(mail: Mail, options?: { readonly signal?: AbortSignal }): Promise<void>;
  /** Releases connections; the sender is not used after. */
  close?(): Promise<void>;
}

/**
 * The Message-ID of a notification's mail: `<eventId.kind@notifications.refront>`. It depends only
 * on the fact (the notification's first event and its kind), so every send of that notification
 * carries the same one and a receiver sees a duplicate as two messages with one Message-ID.
 *
 * @example
 * messageIdOf({ eventId: '0190…', kind: 'invoice_issued' }); // '<0190….invoice_issued@notifications.refront>'
 */
export function messageIdOf(mail: Pick<Mail, 'eventId' | 'kind'>): string {
  return `<${mail.eventId}.${mail.kind}@notifications.refront>`;
}
