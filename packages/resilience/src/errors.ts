import { RefrontError } from '@refront/core';

/**
 * Reasons raised by `@refront/resilience`, each with a fixed gRPC status. Invalid options raise
 * core's `CORE_INVALID_OPTION` (INVALID_ARGUMENT) at construction.
 *
 * | reason | status | retryable |
 * |---|---|---|
 * | `RESILIENCE_TIMEOUT` | DEADLINE_EXCEEDED | no |
 * | `RESILIENCE_CIRCUIT_OPEN` | UNAVAILABLE | yes, any operation (unprocessed) |
 * | `RESILIENCE_BULKHEAD_FULL` | RESOURCE_EXHAUSTED | no |
 * | `RESILIENCE_RATE_LIMITED` | RESOURCE_EXHAUSTED | no |
 *
 * @example
 * if (isRefrontError(e) && e.reason === ResilienceReason.CIRCUIT_OPEN) showDegradedBanner();
 */
export const ResilienceReason = {
  /** The effective deadline (local timeout, call deadline or the request context's) passed. */
  TIMEOUT: 'RESILIENCE_TIMEOUT',
  /** The target's circuit breaker is open (or probing): the call failed fast without reaching it. */
  CIRCUIT_OPEN: 'RESILIENCE_CIRCUIT_OPEN',
  /** Every bulkhead slot is busy and its queue is full. */
  BULKHEAD_FULL: 'RESILIENCE_BULKHEAD_FULL',
  /** The rate limiter has no token left; `details.retryDelayMs` says when the next one comes. */
  RATE_LIMITED: 'RESILIENCE_RATE_LIMITED',
} as const;

/** One of the {@link ResilienceReason} values. */
export type ResilienceReasonCode = (typeof ResilienceReason)[keyof typeof ResilienceReason];

/** The error thrown when our deadline fires. */
export function timeoutError(target: string | undefined, budgetMs: number): RefrontError {
  const what = target === undefined ? 'the call' : `the call to ${target}`;
  return new RefrontError(
    'DEADLINE_EXCEEDED',
    ResilienceReason.TIMEOUT,
    `${what} exceeded its deadline (${budgetMs} ms)`,
    {
      retryable: false,
      details: target === undefined ? {} : { metadata: { target } },
    },
  );
}

/**
 * The error an open (or probing) breaker fails fast with: retryable and unprocessed (the call
 * never left this process), so a retry can pick another instance whatever the operation.
 */
export function circuitOpenError(target: string, cause: unknown): RefrontError {
  return new RefrontError(
    'UNAVAILABLE',
    ResilienceReason.CIRCUIT_OPEN,
    `circuit breaker for ${target} is open`,
    {
      retryable: true,
      unprocessed: true,
      cause,
      details: { metadata: { target } },
    },
  );
}

/** The error a full bulkhead rejects with. Not retryable: retrying local overload only adds to it. */
export function bulkheadFullError(
  target: string | undefined,
  maxConcurrent: number,
  maxQueue: number,
): RefrontError {
  return new RefrontError(
    'RESOURCE_EXHAUSTED',
    ResilienceReason.BULKHEAD_FULL,
    `bulkhead full${target === undefined ? '' : ` for ${target}`}: ${maxConcurrent} running, ${maxQueue} queued`,
    { retryable: false, details: target === undefined ? {} : { metadata: { target } } },
  );
}

/** The error the rate limiter rejects with, carrying how long until the next token. */
export function rateLimitedError(target: string | undefined, retryDelayMs: number): RefrontError {
  return new RefrontError(
    'RESOURCE_EXHAUSTED',
    ResilienceReason.RATE_LIMITED,
    `rate limit reached${target === undefined ? '' : ` for ${target}`}`,
    {
      retryable: false,
      details: { retryDelayMs, ...(target === undefined ? {} : { metadata: { target } }) },
    },
  );
}
