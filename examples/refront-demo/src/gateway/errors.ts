import { type FieldViolation, HTTP_STATUS, isRefrontError, RefrontError, type Status } from '@refront/core';
import { isStatus } from '@refront/core/transport';
import { DataReason } from '@refront/data';

/** Reasons raised by the gateway itself (services bring their own, passed through). */
export const GatewayReason = {
  /** No `Authorization: Bearer …` header. */
  TOKEN_MISSING: 'GATEWAY_TOKEN_MISSING',
  /** The token does not verify (signature, algorithm, issuer, audience, malformed). */
  TOKEN_INVALID: 'GATEWAY_TOKEN_INVALID',
  /** The token's `exp` has passed. */
  TOKEN_EXPIRED: 'GATEWAY_TOKEN_EXPIRED',
  /** The token verifies but lacks a usable `sub` or `tenant` claim, or its `roles` is not an array of strings. */
  TOKEN_CLAIMS: 'GATEWAY_TOKEN_CLAIMS',
  /**
   * The token verifies but its user lacks the role the route requires (HTTP 403); refused before
   * any service call. The route's `x-required-role` in the OpenAPI document names the role.
   */
  FORBIDDEN: 'GATEWAY_FORBIDDEN',
  /** The JWKS endpoint could not be read, so no token can be checked right now. */
  JWKS_UNAVAILABLE: 'GATEWAY_JWKS_UNAVAILABLE',
  /** The request failed schema validation; `fieldViolations` lists every problem. */
  VALIDATION_FAILED: 'GATEWAY_VALIDATION_FAILED',
  /** The body is not parseable JSON. */
  MALFORMED_JSON: 'GATEWAY_MALFORMED_JSON',
  /** The body is larger than `bodyLimitBytes`. */
  BODY_TOO_LARGE: 'GATEWAY_BODY_TOO_LARGE',
  /** The body's content type is not `application/json`. */
  UNSUPPORTED_MEDIA_TYPE: 'GATEWAY_UNSUPPORTED_MEDIA_TYPE',
  /** Another malformed HTTP request (bad header, bad content length…). */
  BAD_REQUEST: 'GATEWAY_BAD_REQUEST',
  /** The `Idempotency-Key` header is not 1-255 printable ASCII characters (HTTP 400). */
  INVALID_IDEMPOTENCY_KEY: 'GATEWAY_INVALID_IDEMPOTENCY_KEY',
  /** No route matches the method and path. */
  ROUTE_NOT_FOUND: 'GATEWAY_ROUTE_NOT_FOUND',
  /** The tenant used up its request budget for the current window. */
  RATE_LIMITED: 'GATEWAY_RATE_LIMITED',
  /** The client address failed authentication too often this window; refused before its token is read. */
  AUTH_FAILURES_LIMITED: 'GATEWAY_AUTH_FAILURES_LIMITED',
  /** An unexpected failure; the trace id finds it in the logs. */
  INTERNAL: 'GATEWAY_INTERNAL',
} as const;

/** The JSON body of every error answer: one shape for validation, auth, service and gateway errors. */
export interface ErrorBody {
  readonly error: {
    /** The gRPC status name (`NOT_FOUND`, `INVALID_ARGUMENT`…). */
    readonly status: Status;
    /** A specific code with a package prefix (`GATEWAY_TOKEN_EXPIRED`, `TICKETS_TICKET_NOT_FOUND`). */
    readonly reason: string;
    /** For a human; never holds internals. */
    readonly message: string;
    /** Every invalid field, for INVALID_ARGUMENT. */
    readonly fieldViolations?: readonly FieldViolation[];
    /** Milliseconds to wait before retrying, when the server knows. */
    readonly retryDelayMs?: number;
    /** Trace id of the request, to find it in logs and traces. */
    readonly traceId: string;
  };
}

/** An error answer: HTTP status, headers and body. */
export interface HttpError {
  readonly statusCode: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: ErrorBody;
  /** Whether the failure is the server's (logged at error level). */
  readonly serverFault: boolean;
}

/**
 * Reasons answered with another HTTP status than their gRPC status's, after the IETF httpapi
 * Idempotency-Key draft: a key reused with another body is 422, a key whose first request is
 * still being served is 409 (retry for its answer).
 */
const STATUS_OF_REASON: Readonly<Record<string, number>> = {
  [DataReason.IDEMPOTENCY_KEY_REUSED]: 422,
  [DataReason.IDEMPOTENCY_IN_PROGRESS]: 409,
};

/** Statuses whose message may carry internals: replaced by a neutral one. */
const OPAQUE: ReadonlySet<Status> = new Set<Status>(['INTERNAL', 'UNKNOWN', 'DATA_LOSS']);

/** Fastify error codes of bad request bodies, with the answer each gets. */
const FASTIFY_ERRORS: Readonly<Record<string, { statusCode: number; reason: string; message?: string }>> = {
  FST_ERR_CTP_INVALID_JSON_BODY: {
    statusCode: 400,
    reason: GatewayReason.MALFORMED_JSON,
    message: 'the body is not valid JSON',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    statusCode: 400,
    reason: GatewayReason.MALFORMED_JSON,
    message: 'the body is empty but its content type is application/json',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { statusCode: 413, reason: GatewayReason.BODY_TOO_LARGE },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    statusCode: 415,
    reason: GatewayReason.UNSUPPORTED_MEDIA_TYPE,
    message: 'the body must be application/json',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { statusCode: 400, reason: GatewayReason.BAD_REQUEST },
};

/** An HTTP client error from Fastify itself (parsing, limits), as a RefrontError and its status. */
function fromFastify(e: unknown): { statusCode: number; error: RefrontError } | undefined {
  if (typeof e !== 'object' || e === null) return undefined;
  const { code, statusCode, message } = e as { code?: unknown; statusCode?: unknown; message?: unknown };
  const known = typeof code === 'string' ? FASTIFY_ERRORS[code] : undefined;
  const text = typeof message === 'string' ? message : 'bad request';
  if (known) {
    return {
      statusCode: known.statusCode,
      error: new RefrontError('INVALID_ARGUMENT', known.reason, known.message ?? text, { retryable: false }),
    };
  }
  // Fastify's other client errors (a body with __proto__, a bad header) carry a 4xx statusCode.
  if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
    return {
      statusCode,
      error: new RefrontError('INVALID_ARGUMENT', GatewayReason.BAD_REQUEST, text, { retryable: false }),
    };
  }
  return undefined;
}

/** The `WWW-Authenticate` challenge of a 401 (RFC 6750 §3). */
function challenge(error: RefrontError): string {
  if (error.reason === GatewayReason.TOKEN_MISSING) return 'Bearer realm="refront"';
  const description = error.message.replace(/["\\]/g, '');
  return `Bearer realm="refront", error="invalid_token", error_description="${description}"`;
}

/**
 * Maps anything thrown while serving a request to its HTTP answer. A RefrontError keeps its
 * status (through core's `HTTP_STATUS`, except the idempotency reasons: 422 and 409), reason and
 * field violations; Fastify's body errors
 * become 400/413/415; anything else is a 500 whose message says nothing about internals.
 *
 * @example
 * const { statusCode, body } = toHttpError(new RefrontError('NOT_FOUND', 'X_GONE', 'gone'), traceId);
 * // 404, { error: { status: 'NOT_FOUND', reason: 'X_GONE', message: 'gone', traceId } }
 */
export function toHttpError(e: unknown, traceId: string): HttpError {
  let error: RefrontError;
  let statusCode: number;
  const fastify = isRefrontError(e) ? undefined : fromFastify(e);
  if (isRefrontError(e) && isStatus(e.status)) {
    error = e;
    statusCode = STATUS_OF_REASON[e.reason] ?? HTTP_STATUS[e.status];
  } else if (fastify) {
    ({ error, statusCode } = fastify);
  } else {
    error = new RefrontError('INTERNAL', GatewayReason.INTERNAL, 'internal error', { cause: e });
    statusCode = 500;
  }
  const headers: Record<string, string> = {};
  if (statusCode === 401) headers['www-authenticate'] = challenge(error);
  const retryDelayMs = error.details.retryDelayMs;
  if (retryDelayMs !== undefined && retryDelayMs >= 0) {
    headers['retry-after'] = String(Math.max(1, Math.ceil(retryDelayMs / 1000)));
  }
  const violations = error.details.fieldViolations;
  const body: ErrorBody = {
    error: {
      status: error.status,
      reason: error.reason,
      message: OPAQUE.has(error.status) ? `internal error (trace ${traceId})` : error.message,
      ...(violations && violations.length > 0 ? { fieldViolations: violations } : {}),
      ...(retryDelayMs !== undefined ? { retryDelayMs } : {}),
      traceId,
    },
  };
  return { statusCode, headers, body, serverFault: statusCode >= 500 };
}
