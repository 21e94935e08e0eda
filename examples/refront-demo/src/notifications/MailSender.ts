import type { Database } from '@refront/data';

/** One mail to send. */
export interface Mail {
  /** Idempotency key: the notification's id. A sender must send one mail per id. */
  readonly id: string;
  readonly tenant: string;
  readonly to: string;
  readonly subject: string;
  readonly body: string;
}

/**
 * Sends mail. Delivery is at least once (a crash between sending and recording it sends again),
 * so a sender must treat {@link Mail.id} as an idempotency key (most mail APIs take one) to make
 * it exactly once.
 *
 * @example
 * const sender: MailSender = { name: 'smtp', send: (mail) => smtp.sendMail({ messageId: mail.id, ... }) };
 */
export interface MailSender {
  /** Short name for logs. */
  readonly name: string;
  /**
   * Sends `mail`; resolves once the mail system took it.
   * @throws any error when it could not; the notification stays pending and is retried.
   */
  send(mail: Mail, options?: { readonly signal?: AbortSignal }): Promise<void>;
}

/**
 * The default sender: writes each mail to the service's own `sent_mail` table (no mail server
 * needed), once per mail id.
 *
 * @example
 * const sender = createTableMailSender(db);
 */
export function createTableMailSender(db: Database): MailSender {
  return {
    name: 'table',
    async send(mail, options = {}) {
      options.signal?.throwIfAborted();
      await db.query(
        `insert into sent_mail (message_id, tenant_id, recipient, subject, body)
         values ($1, $2, $3, $4, $5) on conflict (message_id) do nothing`,
        [mail.id, mail.tenant, mail.to, mail.subject, mail.body],
      );
    },
  };
}
