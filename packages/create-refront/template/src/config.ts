import { type Env, loadConfig } from '@refront/core';
import { z } from 'zod';

const port = z.coerce.number().int().min(0).max(65535);

/**
 * The app's configuration: environment variables, checked before anything binds. An invalid or
 * missing variable stops the app with every problem listed by name.
 */
export const configSchema = z.object({
  /** gRPC port of the app's services (0: a free one). */
  GRPC_PORT: port.default(50051),
  /** gRPC bind address. */
  GRPC_HOST: z.string().min(1).default('127.0.0.1'),
  /** Port of /healthz, /readyz and /metrics (0: a free one). */
  OPS_PORT: port.default(9464),
  /** PostgreSQL URL, one schema per service. Unset: the embedded database (PGlite). */
  DATABASE_URL: z.url().optional(),
  /** Folder of the embedded database. Unset: in memory, gone when the app stops. */
  DATA_DIR: z.string().min(1).optional(),
  /** RabbitMQ URL for events. Unset: the in-process event bus. */
  AMQP_URL: z.url().optional(),
  /** Time in-flight work gets to finish on SIGTERM, in ms. */
  GRACE_PERIOD_MS: z.coerce.number().int().min(0).default(10_000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
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
