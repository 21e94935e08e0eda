import { createHash, randomUUID } from 'node:crypto';
import { isValidIdempotencyKey, RefrontError } from '@refront/core';
import { GatewayReason } from './errors.js';

/** HTTP methods whose requests carry an idempotency key (the IETF httpapi draft's non-idempotent ones). */
const KEYED_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** The OpenAPI schema of the `Idempotency-Key` request header, for the routes that read it. */
export const IDEMPOTENCY_KEY_HEADER_SCHEMA = {
  type: 'object',
  properties: {
    'Idempotency-Key': {
      type: 'string',
      minLength: 1,
      maxLength: 255,
      description:
        'Makes a retry safe (IETF httpapi idempotency-key draft): the same key and body get the first ' +
        'answer again, the same key with another body gets 422, and a retry while the first is still ' +
        'running gets 409. One is generated when absent.',
    },
  },
} as const;

/**
 * Whether requests of `method` carry an idempotency key (POST, PUT, PATCH, DELETE).
 *
 * @example
 * isKeyedMethod('POST'); // true
 */
export function isKeyedMethod(method: string): boolean {
  return KEYED_METHODS.has(method);
}

/** The value of an `Idempotency-Key` header: an sf-string (`"…"`, as the draft sends it) or a bare token. */
function unquote(value: string): string {
  return value.length >= 2 && value.startsWith('"') && value.endsWith('"')
    ? value.slice(1, -1).replace(/\\(["\\])/g, '$1')
    : value;
}

/**
 * The idempotency key a request's service calls derive theirs from, or undefined for a method
 * that needs none (GET). The client's `Idempotency-Key` header when it sends one (scoped to the
 * user, so two users of a tenant never share a stored response), else a fresh random key: a
 * retry without the header is a new request, but the service calls of one request still carry
 * one key each across their own retries.
 *
 * @throws RefrontError INVALID_ARGUMENT `GATEWAY_INVALID_IDEMPOTENCY_KEY` (HTTP 400) for a header
 *   that is not 1-255 printable ASCII characters, or sent twice.
 * @example
 * const key = requestIdempotencyKey('POST', request.headers['idempotency-key'], principal?.user);
 */
export function requestIdempotencyKey(
  method: string,
  header: string | readonly string[] | undefined,
  user: string | undefined,
): string | undefined {
  if (!KEYED_METHODS.has(method)) return undefined;
  if (header === undefined) return randomUUID();
  const key = typeof header === 'string' ? unquote(header.trim()) : undefined;
  if (key === undefined || !isValidIdempotencyKey(key)) {
    throw new RefrontError(
      'INVALID_ARGUMENT',
      GatewayReason.INVALID_IDEMPOTENCY_KEY,
      'the Idempotency-Key header must be one value of 1 to 255 printable ASCII characters',
      {
        retryable: false,
        details: {
          fieldViolations: [{ field: 'Idempotency-Key', description: 'printable ASCII, 1-255 chars' }],
        },
      },
    );
  }
  return user === undefined ? key : createHash('sha256').update(`${user}\n${key}`).digest('base64url');
}
