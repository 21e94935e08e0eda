/**
 * The gateway's defaults, apart from createGateway so that reading the configuration (serveConfig)
 * does not load the HTTP server and its libraries in a process that runs another service.
 */
import type { AuthFailureLimit } from './authFailureLimit.js';
import type { GatewayRateLimit } from './requestLimit.js';

/** Address the gateway binds by default. */
export const DEFAULT_HOST = '0.0.0.0';
/** Port the gateway binds by default. */
export const DEFAULT_PORT = 8080;
/** Largest request body, in bytes. */
export const DEFAULT_BODY_LIMIT_BYTES = 64 * 1024;
/** Deadline of a request through the gateway, in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** Requests per tenant per minute. */
export const DEFAULT_RATE_LIMIT: GatewayRateLimit = { max: 600, windowMs: 60_000 };
/** Failed authentications per client address per minute. */
export const DEFAULT_AUTH_FAILURE_LIMIT: AuthFailureLimit = { max: 30, windowMs: 60_000 };
/** The service name of the gateway in logs, spans and the `x-refront-caller` of its calls. */
export const GATEWAY_SERVICE = 'gateway';
