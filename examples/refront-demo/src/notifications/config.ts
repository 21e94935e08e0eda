import { type Env, loadConfig } from '@refront/core';
import { z } from 'zod';
import { type MailReceiver, startMailReceiver } from './MailReceiver.js';
import type { MailSender } from './MailSender.js';
import { createSmtpMailSender } from './SmtpMailSender.js';

/**
 * The notifications service's environment variables, as a zod shape to merge into a process's own
 * schema (`serveConfig` does, so a bad value stops the process at start with every other problem).
 */
export const notificationsEnvShape = {
  SMTP_HOST: z
    .string()
    .trim()
    .min(1)
    .optional()
    .describe('SMTP server mail goes to; unset starts an embedded receiver in this process.'),
  SMTP_PORT: z.coerce.number().int().min(1).max(65_535).default(587).describe('SMTP server port.'),
  SMTP_SECURE: z
    .stringbool()
    .default(false)
    .describe('TLS from the first byte (port 465); otherwise STARTTLS when offered.'),
  SMTP_USER: z.string().min(1).optional().describe('Login at the SMTP server, with SMTP_PASSWORD.'),
  SMTP_PASSWORD: z.string().min(1).optional().describe('Password at the SMTP server, with SMTP_USER.'),
  SMTP_FROM: z
    .string()
    .min(3)
    .default('notifications@refront.example')
    .describe('From address of every mail.'),
  NOTIFICATIONS_LEASE_MS: z.coerce
    .number()
    .int()
    .min(1_000)
    .default(30_000)
    .describe('How long a claim on a notification lasts before another instance may take it over, in ms.'),
};

const schema = z.preprocess(
  // Empty means unset, as serveConfig reads it (Compose and Kubernetes clear a variable that way).
  (env) =>
    Object.fromEntries(
      Object.entries(env as Env).filter(
        ([k, v]) => k in notificationsEnvShape && !(typeof v === 'string' && v.trim() === ''),
      ),
    ),
  z
    .object(notificationsEnvShape)
    .refine((e) => (e.SMTP_USER === undefined) === (e.SMTP_PASSWORD === undefined), {
      path: ['SMTP_PASSWORD'],
      message: 'set SMTP_USER and SMTP_PASSWORD together',
    }),
);

/** The parsed environment of the notifications service. */
export type NotificationsEnv = z.output<typeof schema>;

/**
 * Reads the notifications service's variables: SMTP_HOST, SMTP_PORT (587), SMTP_SECURE (false),
 * SMTP_USER, SMTP_PASSWORD, SMTP_FROM (notifications@refront.example), NOTIFICATIONS_LEASE_MS (30000).
 *
 * @throws ConfigError listing every invalid variable.
 * @example
 * const { SMTP_HOST, NOTIFICATIONS_LEASE_MS } = loadNotificationsEnv(process.env);
 */
export function loadNotificationsEnv(env: Env = process.env): NotificationsEnv {
  return loadConfig(schema, env);
}

/** Where mail goes: a sender, and the receiver behind it when it runs in this process. */
export interface MailSetup {
  readonly sender: MailSender;
  /** The embedded receiver, when SMTP_HOST is unset. */
  readonly receiver: MailReceiver | undefined;
}

/**
 * The mail setup the environment asks for: SMTP to SMTP_HOST when set; otherwise an embedded SMTP
 * receiver on 127.0.0.1 (a free port) in this process, and SMTP to it. Close both at shutdown.
 *
 * @throws whatever starting the receiver throws (a listen error).
 * @example
 * const { sender, receiver } = await mailFromEnv(loadNotificationsEnv(process.env));
 */
export async function mailFromEnv(env: NotificationsEnv): Promise<MailSetup> {
  if (env.SMTP_HOST !== undefined) {
    const auth =
      env.SMTP_USER !== undefined && env.SMTP_PASSWORD !== undefined
        ? { user: env.SMTP_USER, pass: env.SMTP_PASSWORD }
        : undefined;
    return {
      sender: createSmtpMailSender({
        host: env.SMTP_HOST,
        port: env.SMTP_PORT,
        secure: env.SMTP_SECURE,
        from: env.SMTP_FROM,
        ...(auth ? { auth } : {}),
      }),
      receiver: undefined,
    };
  }
  const receiver = await startMailReceiver();
  return {
    sender: createSmtpMailSender({ host: receiver.host, port: receiver.port, from: env.SMTP_FROM }),
    receiver,
  };
}
