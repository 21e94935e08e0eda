import type { Env, ServiceOptions } from '@refront/core';
import { loadConfig } from '@refront/core';
import { z } from 'zod';
import { checkGatewayEnv, gatewayEnvShape } from './gateway/config.js';
import { notificationsEnvShape } from './notifications/config.js';
import { amqpUserProblem } from './platform/brokerUsers.js';
import { DEFAULT_RPC_LANE, RPC_LANES } from './platform/rpcLane.js';
import { checkIdentityEnv, identityEnvShape } from './platform/serviceIdentity.js';
import { PLATFORM_MODULES } from './platform/services.js';

const names: [string, ...string[]] = ['gateway', 'console', ...PLATFORM_MODULES.map((m) => m.name)];

/**
 * An empty (or blank) variable counts as unset, so it takes its default or stays undefined. Without
 * this, `z.coerce.number()` reads `OPS_PORT=""` as 0 (a free port) instead of 9464; an empty value
 * is how Compose and Kubernetes clear a variable the image sets.
 */
function unsetBlank(env: unknown): unknown {
  if (typeof env !== 'object' || env === null) return env;
  return Object.fromEntries(
    Object.entries(env).filter(([, v]) => !(typeof v === 'string' && v.trim() === '')),
  );
}

/**
 * The environment of one service process (`src/serve.ts`), documented in docs/deploy.md. Empty
 * or blank values count as unset.
 *
 * Every service serves both request lanes: gRPC on `GRPC_PORT` and mux on `MUX_PORT`, each 0 (a
 * free port, registered in Consul) unless set, as the image sets 50051 and 51051 for DNS and
 * static discovery. `REFRONT_RPC` only picks the lane this process calls the others on (mux by
 * default), so callers can switch in any order; `MUX_PORT=off` serves gRPC alone, for a service
 * no caller reaches on mux.
 *
 * Services call each other over mutual TLS (`MTLS=on`, the default): `TLS_CA_FILE`,
 * `TLS_CERT_FILE` and `TLS_KEY_FILE` are then required, and each service serves only the callers
 * its module declares and the operators (`callersOf`: the console), by the SPIFFE id in their
 * certificates, in `TRUST_DOMAIN`. The console calls them too (its API explorer), so it needs its
 * own certificate (`spiffe://<TRUST_DOMAIN>/console`) as well.
 *
 * `SERVICE=gateway` also runs the gateway's checks: a token key is required, and with
 * `NODE_ENV=production` dev tokens, a placeholder or weak `JWT_SECRET` and an unset `JWT_ISSUER`
 * or `JWT_AUDIENCE` are refused, by variable name.
 *
 * @example
 * const service = createService({ ...serviceOptionsFromEnv(process.env), config: serveConfig });
 */
export const serveConfig = z.preprocess(
  unsetBlank,
  z
    .object({
      SERVICE: z.enum(names).describe('Which service this process runs.'),
      SERVICE_VERSION: z
        .string()
        .default('0.1.0')
        .describe('Version reported in logs, `/healthz`, metrics and the registration.'),
      DATABASE_URL: z
        .url()
        .optional()
        .describe(
          'PostgreSQL; the service migrates and uses its own schema (`tickets`, `time_tracking`, …).',
        ),
      AMQP_URL: z
        .string()
        .default('amqp://guest:guest@127.0.0.1:5672')
        .describe(
          "RabbitMQ, logging in as the service's own broker user (`<AMQP_USER_PREFIX><service>`); with `AMQP_OWNERSHIP=on` a URL naming another user is refused at start.",
        ),
      AMQP_NAMESPACE: z
        .string()
        .default('refront')
        .describe('Prefix of exchanges and queues, so that several platforms can share a broker.'),
      // Events from their owner only (decision 0049): each service logs in as its own broker user.
      AMQP_OWNERSHIP: z
        .enum(['on', 'off'])
        .default('on')
        .describe(
          "Events from their owner only (decision 0049): each service publishes as its own broker user and dead-letters events its owner's user did not publish; `off` runs every service as one user, unchecked.",
        ),
      AMQP_USER_PREFIX: z.string().default('').describe("Prefix of every service's broker user name."),
      DATABASE_POOL_SIZE: z.coerce
        .number()
        .int()
        .min(1)
        .default(10)
        .describe('Connections to PostgreSQL this process may hold.'),
      GRPC_HOST: z.string().default('0.0.0.0').describe('gRPC bind address.'),
      GRPC_PORT: z.coerce
        .number()
        .int()
        .min(0)
        .max(65535)
        .default(0)
        .describe('gRPC port; 0 picks a free one (only useful with Consul). The image sets 50051.'),
      REFRONT_RPC: z
        .enum(RPC_LANES)
        .default(DEFAULT_RPC_LANE)
        .describe(
          'The lane this process calls the services on: `mux` (the native lane) or `grpc`. It does not change what a service serves (both).',
        ),
      MUX_PORT: z
        .union([z.literal('off'), z.coerce.number().int().min(0).max(65535)])
        .default(0)
        .describe(
          'mux port, registered as `<service>-mux`; 0 picks a free one (only useful with Consul); `off` serves gRPC alone. The image sets 51051.',
        ),
      ADVERTISE_HOST: z
        .string()
        .default('127.0.0.1')
        .describe('Address registered in Consul for this instance.'),
      OPS_PORT: z.coerce
        .number()
        .int()
        .min(0)
        .max(65535)
        .default(9464)
        .describe('Ops HTTP server: `/healthz`, `/readyz` and `/metrics` (Prometheus).'),
      GRACE_PERIOD_MS: z.coerce
        .number()
        .int()
        .min(0)
        .default(10_000)
        .describe('How long a SIGTERM drain may take, in ms, before work in flight is aborted.'),
      // SERVICE=console: the Refront console of the topology (docs/console.md).
      CONSOLE_HOST: z.string().default('127.0.0.1').describe('`SERVICE=console`: address the console binds.'),
      CONSOLE_PORT: z.coerce
        .number()
        .int()
        .min(0)
        .max(65535)
        .default(4318)
        .describe("`SERVICE=console`: the console's port (OTLP/HTTP's, so exporters find it without setup)."),
      REFRONT_CONSOLE_TOKEN: z
        .string()
        .optional()
        .describe(
          '`SERVICE=console`: the bearer token every console request must carry; required unless `NODE_ENV=development`.',
        ),
      REFRONT_OPS_ENDPOINTS: z
        .string()
        .optional()
        .describe(
          "`SERVICE=console`: the processes' ops endpoints whose `/readyz` and `/metrics` it reads, as `REFRONT_ENDPOINTS` lists addresses (`tickets=127.0.0.1:9465;gateway=127.0.0.1:9464`).",
        ),
      REFRONT_OPS_DNS: z
        .string()
        .optional()
        .describe(
          "`SERVICE=console`: the processes' ops endpoints from DNS, as `REFRONT_DNS` names them (`tickets=tickets-ops.refront.svc.cluster.local:9464;…`).",
        ),
      GATEWAY_URL: z
        .url({ protocol: /^https?$/ })
        .optional()
        .describe(
          "`SERVICE=console`: the gateway's base URL (`http://gateway:8080`), whose routes the API explorer lists (`/openapi.json`) and calls, with dev tokens from `POST /v1/dev/tokens` when `DEV_AUTH=true`; unset: methods only.",
        ),
      CONSOLE_EXPLORER: z
        .enum(['on', 'off'])
        .default('on')
        .describe(
          '`SERVICE=console`: `off` makes a read-only console: the API explorer lists every method and route and refuses every call (403 `CONSOLE_EXPLORER_OFF`).',
        ),
      ...identityEnvShape,
      ...gatewayEnvShape,
      ...notificationsEnvShape,
    })
    .superRefine((env, ctx) => {
      // Every process, the gateway and the console included, calls the services over mutual TLS
      // unless MTLS=off: the console's API explorer as the operator identity `console` (decision 0146).
      checkIdentityEnv(env, ctx);
      if (env.SERVICE === 'console') return;
      // The gateway's checks between variables, strict with NODE_ENV=production (decision 0067).
      if (env.SERVICE === 'gateway') checkGatewayEnv(env, ctx);
      else if (env.AMQP_OWNERSHIP === 'on') {
        const problem = amqpUserProblem(env.AMQP_URL, env.SERVICE, env.AMQP_USER_PREFIX);
        if (problem) ctx.addIssue({ code: 'custom', path: ['AMQP_URL'], message: problem });
      }
    }),
);

/** The parsed environment of a service process. */
export type ServeConfig = z.output<typeof serveConfig>;

/**
 * Reads the environment of a service process.
 * @throws ConfigError listing every invalid or missing variable.
 */
export function loadServeConfig(env: Env = process.env): ServeConfig {
  return loadConfig(serveConfig, env);
}

/**
 * The options `createService` needs before it parses the config itself: name, version, ops port
 * and grace period, read with the same schema (so `OPS_PORT=""` is 9464, not 0). When the
 * environment is invalid they fall back to defaults only far enough for `createService` to parse
 * it again, list every problem and exit.
 */
export function serviceOptionsFromEnv(
  env: Env,
): Pick<ServiceOptions, 'name' | 'version' | 'opsPort' | 'gracePeriodMs'> {
  const parsed = serveConfig.safeParse(env);
  if (!parsed.success) return { name: env.SERVICE?.trim() || 'refront-demo', version: '0.1.0' };
  const c = parsed.data;
  return {
    name: c.SERVICE,
    version: c.SERVICE_VERSION,
    opsPort: c.OPS_PORT,
    gracePeriodMs: c.GRACE_PERIOD_MS,
  };
}
