import { invalidOption } from '@refront/core/transport';

/** One message the receiver accepted. */
export interface ReceivedMail {
  /** The Message-ID header, angle brackets included ('' when the message had none). */
  readonly messageId: string;
  /** The X-Refront-Notification header ('' when absent). */
  readonly notificationId: string;
  /** The X-Refront-Tenant header ('' when absent). */
  readonly tenant: string;
  /** The From header. */
  readonly from: string;
  /** Envelope recipients (RCPT TO). */
  readonly to: readonly string[];
  readonly subject: string;
  /** Plain text body, decoded. */
  readonly text: string;
  readonly receivedAt: Date;
}

/** Options of {@link startMailReceiver}. */
export interface MailReceiverOptions {
  /** Address to listen on. @default '127.0.0.1' */
  readonly host?: string;
  /** Port; 0 picks a free one. @default 0 */
  readonly port?: number;
  /** Messages kept, the oldest dropped first. @default 1000 */
  readonly maxMessages?: number;
  /**
   * Runs after a message arrived, before the receiver answers; a rejection refuses it with
   * `451 <message>` (a temporary failure: the client sends it again later) and it is not kept.
   * Tests use it to make the receiver slow or failing. @default accept at once
   */
  readonly beforeAccept?: (mail: ReceivedMail) => Promise<void> | void;
}

/** An SMTP server in this process that keeps what it receives. */
export interface MailReceiver {
  readonly host: string;
  readonly port: number;
  /** Every message kept, oldest first. */
  received(): readonly ReceivedMail[];
  /** How many messages with this Message-ID were accepted. */
  countOf(messageId: string): number;
  /** Stops listening and ends open sessions. Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const header = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * Starts an SMTP server (smtp-server, decision 0074) that accepts any mail without login or TLS and
 * keeps it in memory: the demo's mail sink when no `SMTP_HOST` is configured, and what tests count
 * deliveries on. Listen on loopback only: it relays nothing and authenticates nobody.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a bad port or maxMessages; the
 *   listen error (EADDRINUSE…) when the port is taken.
 * @example
 * await using receiver = await startMailReceiver();
 * const sender = createSmtpMailSender({ host: receiver.host, port: receiver.port, from: 'n@refront.example' });
 */
export async function startMailReceiver(options: MailReceiverOptions = {}): Promise<MailReceiver> {
  const host = options.host ?? '127.0.0.1';
  const port = options.port ?? 0;
  const maxMessages = options.maxMessages ?? 1_000;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    throw invalidOption(`port must be 0-65535, got ${port}`);
  if (!Number.isInteger(maxMessages) || maxMessages < 1)
    throw invalidOption(`maxMessages must be a whole number >= 1, got ${maxMessages}`);
  const kept: ReceivedMail[] = [];
  // Imported here, not with the module: only a process that receives mail loads them (decision 0143).
  const [{ simpleParser }, { SMTPServer }] = await Promise.all([import('mailparser'), import('smtp-server')]);

  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      simpleParser(stream)
        .then(async (parsed) => {
          const mail: ReceivedMail = {
            messageId: parsed.messageId ?? '',
            notificationId: header(parsed.headers.get('x-refront-notification')),
            tenant: header(parsed.headers.get('x-refront-tenant')),
            from: parsed.from?.text ?? '',
            to: session.envelope.rcptTo.map((r) => r.address),
            subject: parsed.subject ?? '',
            text: parsed.text ?? '',
            receivedAt: new Date(),
          };
          await options.beforeAccept?.(mail);
          kept.push(mail);
          if (kept.length > maxMessages) kept.splice(0, kept.length - maxMessages);
          callback();
        })
        .catch((e: unknown) => {
          const refused = Object.assign(new Error(e instanceof Error ? e.message : String(e)), {
            responseCode: 451,
          });
          callback(refused);
        });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      server.server.off('error', reject);
      resolve();
    });
  });
  server.on('error', () => {}); // a client's broken session is its own problem, not the receiver's
  const address = server.server.address();
  const bound = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | undefined;
  const close = () => {
    closing ??= new Promise<void>((resolve) => server.close(() => resolve()));
    return closing;
  };
  return {
    host,
    port: bound,
    received: () => [...kept],
    countOf: (messageId) => kept.filter((m) => m.messageId === messageId).length,
    close,
    [Symbol.asyncDispose]: close,
  };
}
