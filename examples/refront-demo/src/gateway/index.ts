export type { Authenticator, DevToken, GatewayAuthOptions, Principal } from './auth.js';
export {
  authWeaknesses,
  CLOCK_TOLERANCE_SEC,
  createAuthenticator,
  DEFAULT_DEV_TOKEN_TTL_SEC,
  TENANT_PATTERN,
} from './auth.js';
export type { AuthFailureLimit } from './authFailureLimit.js';
export type { GatewayEnv, GatewayEnvFields } from './config.js';
export {
  checkGatewayEnv,
  gatewayEnvSchema,
  gatewayEnvShape,
  gatewayOptionsFromEnv,
  loadGatewayEnv,
} from './config.js';
export type { Gateway, GatewayOptions, GatewayRateLimit } from './createGateway.js';
export { createGateway } from './createGateway.js';
export {
  DEFAULT_AUTH_FAILURE_LIMIT,
  DEFAULT_BODY_LIMIT_BYTES,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_RATE_LIMIT,
  DEFAULT_REQUEST_TIMEOUT_MS,
  GATEWAY_SERVICE,
} from './defaults.js';
export type { ErrorBody } from './errors.js';
export { GatewayReason, toHttpError } from './errors.js';
export { HTTP_DURATION_METRIC } from './observability.js';
export {
  MIN_SECRET_BITS_PER_CHAR,
  MIN_SECRET_DISTINCT_CHARS,
  MIN_SECRET_LENGTH,
  PLACEHOLDER_WORDS,
  secretProblems,
} from './secretStrength.js';
export type { TrustProxy } from './trustProxy.js';
export { parseTrustProxy } from './trustProxy.js';
