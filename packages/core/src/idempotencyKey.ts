import { createHash, randomUUID } from 'node:crypto';
import type { RequestContext } from './context.js';
import { CoreErrors } from './coreErrors.js';
import type { RefrontError } from './errors.js';

/** Longest idempotency key accepted, in characters (Stripe's limit; the IETF draft sets none). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

/** 1 to 255 printable ASCII characters: what gRPC metadata, mux headers and HTTP carry unchanged. */
const VALID_KEY = /^[\x20-\x7e]{1,255}$/;

/**
 * Whether `key` may be used as an idempotency key: 1 to {@link MAX_IDEMPOTENCY_KEY_LENGTH}
 * printable ASCII characters.
 *
 * @example
 * if (!isValidIdempotencyKey(header)) reply.code(400);
 */
export function isValidIdempotencyKey(key: unknown): key is string {
  // The key this process issued last is valid by construction: in one process (the in-process
  // transport) the server checks exactly the key the client just made, so the check is a compare.
  return (key === lastIssued && key !== '') || (typeof key === 'string' && VALID_KEY.test(key));
}

/** The key {@link outgoingIdempotencyKey} returned last (a UUID or a derived key: both valid). */
let lastIssued = '';

/**
 * The INVALID_ARGUMENT error of a malformed idempotency key (`CORE_INVALID_IDEMPOTENCY_KEY`, not
 * retryable: the same key fails the same way).
 *
 * @example
 * if (!isValidIdempotencyKey(key)) throw invalidIdempotencyKey(key);
 */
export function invalidIdempotencyKey(key: unknown): RefrontError {
  const length = typeof key === 'string' ? key.length : 0;
  return CoreErrors.INVALID_IDEMPOTENCY_KEY.with(
    {
      details: {
        fieldViolations: [{ field: 'idempotencyKey', description: 'printable ASCII, 1-255 chars' }],
      },
    },
    length,
  );
}

/**
 * The key of the `ordinal`-th (0-based) call to `path` made while serving a call keyed `parent`:
 * sha256 of the three, base64url (43 characters). A retried handler makes the same calls in the
 * same order, so it sends the same keys downstream and their stored responses answer it.
 *
 * @example
 * deriveIdempotencyKey('4f1c…', '/refront.tickets.v1.TicketsService/GetTicket', 0);
 */
export function deriveIdempotencyKey(parent: string, path: string, ordinal: number): string {
  return createHash('sha256').update(`${parent}\n${path}\n${ordinal}`).digest('base64url');
}

/** Calls made so far per method path, per request context being served. */
const ordinals = new WeakMap<RequestContext, Map<string, number>>();

/**
 * The idempotency key of a new logical call to `path`: derived from the key of the call `ctx`
 * serves (see {@link deriveIdempotencyKey}), or a fresh random UUID outside a keyed call.
 * @internal used by the client's default chain.
 */
export function outgoingIdempotencyKey(ctx: RequestContext | undefined, path: string): string {
  const parent = ctx?.idempotencyKey;
  if (parent === undefined || ctx === undefined) {
    lastIssued = randomUUID();
    return lastIssued;
  }
  let counts = ordinals.get(ctx);
  if (!counts) {
    counts = new Map();
    ordinals.set(ctx, counts);
  }
  const ordinal = counts.get(path) ?? 0;
  counts.set(path, ordinal + 1);
  lastIssued = deriveIdempotencyKey(parent, path, ordinal);
  return lastIssued;
}
