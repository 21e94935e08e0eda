import { type Env, loadConfig } from '@refront/core';
import { z } from 'zod';
import type { GatewayOptions } from './createGateway.js';
import { DEFAULT_AUTH_FAILURE_LIMIT, DEFAULT_HOST, DEFAULT_PORT, DEFAULT_RATE_LIMIT } from './defaults.js';
import { DEFAULT_LIMIT_STORE_PREFIX, DEFAULT_LIMIT_STORE_TIMEOUT_MS } from './limitStore.js';
import { secretProblems } from './secretStrength.js';
import { parseTrustProxy } from './trustProxy.js';

/**
 * The gateway's environment variables, as a zod shape to merge into a service's own schema
 * (`z.object({ ...gatewayEnvShape, ...mine })`). Use {@link gatewayEnvSchema} alone to also get
 * the cross-variable checks.
 */
export const gatewayEnvShape = {
  GATEWAY_PORT: z.coerce
    .number()
    .int()
    .min(0)
    .max(65_535)
    .default(DEFAULT_PORT)
    .describe('Port of the public HTTP API.'),
  GATEWAY_HOST: z.string().min(1).default(DEFAULT_HOST).describe('Address of the public HTTP API.'),
  NODE_ENV: z
    .string()
    .optional()
    .describe('`production` makes the auth settings strict (decision 0067); anything else only warns.'),
  JWT_SECRET: z
    .string()
    .min(32, 'must have at least 32 characters')
    .optional()
    .describe(
      'HS256 secret of bearer tokens, at least 32 characters (or `JWKS_URL`); with `NODE_ENV=production` also no placeholder word and enough entropy.',
    ),
  JWKS_URL: z
    .url()
    .optional()
    .describe('URL of the JSON Web Key Set of the token issuer, instead of `JWT_SECRET`.'),
  JWT_ISSUER: z
    .string()
    .min(1)
    .optional()
    .describe('Required `iss` of tokens; must be set with `NODE_ENV=production`.'),
  JWT_AUDIENCE: z
    .string()
    .min(1)
    .optional()
    .describe('Required `aud` of tokens; must be set with `NODE_ENV=production`.'),
  DEV_AUTH: z
    .stringbool()
    .default(false)
    .describe(
      'Serve `POST /v1/dev/tokens` (development only: needs `JWT_SECRET`, refused with `NODE_ENV=production`).',
    ),
  GATEWAY_TRUST_PROXY: z
    .string()
    .default('false')
    .describe(
      "Proxies believed about the client address (per-address limits): `false`, `true`, a hop count or comma-separated addresses/CIDRs, with Fastify's `trustProxy` semantics.",
    )
    .transform((v, ctx) => {
      try {
        return parseTrustProxy(v);
      } catch (e: unknown) {
        ctx.addIssue({ code: 'custom', message: e instanceof Error ? e.message : String(e) });
        return z.NEVER;
      }
    }),
  GATEWAY_AUTH_FAILURES_PER_MINUTE: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_AUTH_FAILURE_LIMIT.max)
    .describe('Failed authentications (missing or bad token) per client address per minute; then 429.'),
  RATE_LIMIT_PER_MINUTE: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_RATE_LIMIT.max)
    .describe('Requests per tenant per minute.'),
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
    .optional()
    .describe(
      'Redis (`redis://` or `rediss://`) shared by every gateway replica for both limits (decision 0068); unset, each process counts alone.',
    ),
  GATEWAY_REDIS_PREFIX: z
    .string()
    .min(1)
    .default(DEFAULT_LIMIT_STORE_PREFIX)
    .describe("Prefix of the gateway's Redis keys, so platforms can share one Redis."),
  GATEWAY_REDIS_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .positive()
    .default(DEFAULT_LIMIT_STORE_TIMEOUT_MS)
    .describe("Longest wait for Redis per limit decision, in ms; past it the replica's own count decides."),
};

/** The gateway's variables, parsed, before the checks between them. */
export type GatewayEnvFields = z.output<z.ZodObject<typeof gatewayEnvShape>>;

/**
 * What production refuses (decision 0067): dev tokens (anyone could sign a token for any tenant),
 * a placeholder or weak `JWT_SECRET`, and tokens whose `iss` and `aud` go unchecked.
 */
function checkProduction(env: GatewayEnvFields, ctx: z.RefinementCtx): void {
  const issue = (variable: string, message: string): void =>
    ctx.addIssue({ code: 'custom', path: [variable], message });
  if (env.DEV_AUTH) {
    issue('DEV_AUTH', 'must be false with NODE_ENV=production: dev tokens are signed for any tenant');
  }
  const weak = env.JWT_SECRET === undefined ? [] : secretProblems(env.JWT_SECRET);
  if (weak.length > 0) {
    issue('JWT_SECRET', `is refused with NODE_ENV=production: it ${weak.join(', ')}`);
  }
  if (env.JWT_ISSUER === undefined) issue('JWT_ISSUER', 'required with NODE_ENV=production');
  if (env.JWT_AUDIENCE === undefined) issue('JWT_AUDIENCE', 'required with NODE_ENV=production');
}

/**
 * The gateway's checks between variables, reported like any other config problem (by variable
 * name); strict with `NODE_ENV=production`. For a schema that merges {@link gatewayEnvShape}
 * (`.superRefine(checkGatewayEnv)`).
 */
export function checkGatewayEnv(env: GatewayEnvFields, ctx: z.RefinementCtx): void {
  if (env.NODE_ENV === 'production') checkProduction(env, ctx);
  if (env.JWT_SECRET !== undefined && env.JWKS_URL !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['JWKS_URL'], message: 'set JWT_SECRET or JWKS_URL, not both' });
  }
  if (env.JWT_SECRET === undefined && env.JWKS_URL === undefined && !env.DEV_AUTH) {
    ctx.addIssue({
      code: 'custom',
      path: ['JWT_SECRET'],
      message: 'set JWT_SECRET or JWKS_URL (or DEV_AUTH=true)',
    });
  }
  if (env.JWKS_URL !== undefined && env.DEV_AUTH) {
    ctx.addIssue({ code: 'custom', path: ['DEV_AUTH'], message: 'dev tokens need JWT_SECRET, not JWKS_URL' });
  }
}

/**
 * zod schema of the gateway's environment: GATEWAY_PORT (8080), GATEWAY_HOST (0.0.0.0),
 * JWT_SECRET, JWKS_URL, JWT_ISSUER, JWT_AUDIENCE, DEV_AUTH (false), RATE_LIMIT_PER_MINUTE (600),
 * GATEWAY_TRUST_PROXY (false), GATEWAY_AUTH_FAILURES_PER_MINUTE (30), REDIS_URL (unset: limits
 * per process), GATEWAY_REDIS_PREFIX (refront:gateway:), GATEWAY_REDIS_TIMEOUT_MS (100), NODE_ENV (`production` refuses dev tokens, a weak secret and unchecked `iss`/`aud`).
 *
 * @example
 * const service = createService({ name: 'gateway', version: '1.0.0', config: gatewayEnvSchema });
 * const gateway = await createGateway({ channel, logger, metrics, ...gatewayOptionsFromEnv(service.config) });
 */
export const gatewayEnvSchema = z.object(gatewayEnvShape).superRefine(checkGatewayEnv);

/** The parsed gateway environment. */
export type GatewayEnv = z.output<typeof gatewayEnvSchema>;

/**
 * Reads the gateway's environment.
 * @throws ConfigError listing every invalid or missing variable.
 */
export function loadGatewayEnv(env: Env = process.env): GatewayEnv {
  return loadConfig(gatewayEnvSchema, env);
}

/** The gateway options that come from the environment (everything but channel, logger and metrics). */
export function gatewayOptionsFromEnv(
  env: GatewayEnvFields,
): Pick<
  GatewayOptions,
  'auth' | 'rateLimit' | 'authFailureLimit' | 'limitStore' | 'host' | 'port' | 'trustProxy'
> {
  return {
    host: env.GATEWAY_HOST,
    port: env.GATEWAY_PORT,
    trustProxy: env.GATEWAY_TRUST_PROXY,
    rateLimit: { max: env.RATE_LIMIT_PER_MINUTE, windowMs: 60_000 },
    authFailureLimit: { max: env.GATEWAY_AUTH_FAILURES_PER_MINUTE, windowMs: 60_000 },
    limitStore:
      env.REDIS_URL === undefined
        ? undefined
        : {
            redisUrl: env.REDIS_URL,
            keyPrefix: env.GATEWAY_REDIS_PREFIX,
            timeoutMs: env.GATEWAY_REDIS_TIMEOUT_MS,
          },
    auth: {
      hs256Secret: env.JWT_SECRET,
      jwksUrl: env.JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      devTokens: env.DEV_AUTH,
    },
  };
}
