import { type Env, loadConfig } from '@refront/core';
import { z } from 'zod';
import type { GatewayOptions } from './createGateway.js';
import { DEFAULT_HOST, DEFAULT_PORT, DEFAULT_RATE_LIMIT } from './createGateway.js';

/**
 * The gateway's environment variables, as a zod shape to merge into a service's own schema
 * (`z.object({ ...gatewayEnvShape, ...mine })`). Use {@link gatewayEnvSchema} alone to also get
 * the cross-variable checks.
 */
export const gatewayEnvShape = {
  /** Port of the public HTTP API. */
  GATEWAY_PORT: z.coerce.number().int().min(0).max(65_535).default(DEFAULT_PORT),
  /** Address of the public HTTP API. */
  GATEWAY_HOST: z.string().min(1).default(DEFAULT_HOST),
  /** HS256 secret of bearer tokens (at least 32 characters). */
  JWT_SECRET: z.string().min(32, 'must have at least 32 characters').optional(),
  /** URL of the JSON Web Key Set of the token issuer (instead of JWT_SECRET). */
  JWKS_URL: z.url().optional(),
  /** Required `iss` of tokens. */
  JWT_ISSUER: z.string().min(1).optional(),
  /** Required `aud` of tokens. */
  JWT_AUDIENCE: z.string().min(1).optional(),
  /** Serve POST /v1/dev/tokens (development only). */
  DEV_AUTH: z.stringbool().default(false),
  /** Requests per tenant per minute. */
  RATE_LIMIT_PER_MINUTE: z.coerce.number().int().positive().default(DEFAULT_RATE_LIMIT.max),
};

type GatewayEnvFields = z.output<z.ZodObject<typeof gatewayEnvShape>>;

/** Checks between variables, reported like any other config problem (by variable name). */
function checkAuth(env: GatewayEnvFields, ctx: z.RefinementCtx): void {
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
 * JWT_SECRET, JWKS_URL, JWT_ISSUER, JWT_AUDIENCE, DEV_AUTH (false), RATE_LIMIT_PER_MINUTE (600).
 *
 * @example
 * const service = createService({ name: 'gateway', version: '1.0.0', config: gatewayEnvSchema });
 * const gateway = await createGateway({ channel, logger, metrics, ...gatewayOptionsFromEnv(service.config) });
 */
export const gatewayEnvSchema = z.object(gatewayEnvShape).superRefine(checkAuth);

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
): Pick<GatewayOptions, 'auth' | 'rateLimit' | 'host' | 'port'> {
  return {
    host: env.GATEWAY_HOST,
    port: env.GATEWAY_PORT,
    rateLimit: { max: env.RATE_LIMIT_PER_MINUTE, windowMs: 60_000 },
    auth: {
      hs256Secret: env.JWT_SECRET,
      jwksUrl: env.JWKS_URL,
      issuer: env.JWT_ISSUER,
      audience: env.JWT_AUDIENCE,
      devTokens: env.DEV_AUTH,
    },
  };
}
