import { type Env, loadConfig } from '@refront/core';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

/**
 * The app's configuration: environment variables, checked before anything binds. An invalid or
 * missing variable stops the app with every problem listed by name.
 */
export const configSchema = z.object({
  GRPC_PORT: port.default(50051).describe("gRPC port of the app's services (0: a free one)."),
  GRPC_HOST: z.string().min(1).default('127.0.0.1').describe('gRPC bind address.'),
  OPS_PORT: port.default(9464).describe('Port of /healthz, /readyz and /metrics (0: a free one).'),
  DATABASE_URL: z
    .url()
    .optional()
    .describe('PostgreSQL URL, one schema per service. Unset: the embedded database (PGlite).'),
  DATA_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Folder of the embedded database. Unset: in memory, gone when the app stops.'),
  AMQP_URL: z.url().optional().describe('RabbitMQ URL for events. Unset: the in-process event bus.'),
  GRACE_PERIOD_MS: z.coerce
    .number()
    .int()
    .min(0)
    .default(10_000)
    .describe('Time in-flight work gets to finish on SIGTERM, in ms.'),
  LOG_LEVEL: z
    .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])
    .default('info')
    .describe('Minimum level of the JSON logs (pino); `silent` turns them off.'),
});

/** The parsed configuration. */
export type Config = z.output<typeof configSchema>;

/**
 * Reads the configuration from `env`.
 * @throws ConfigError (from `@refront/core`) listing every invalid or missing variable.
 */
export function readConfig(env: Env = process.env): Config {
  return loadConfig(configSchema, env);
}
