import { defineErrors, type ErrorDetails } from '@refront/core';
import { reasonsOf } from '@refront/core/transport';

/**
 * The errors `@refront/resilience` raises, each declared once with its status and meaning (listed
 * in `docs/errors.md#refrontresilience`). A breaker pool used after `close()` raises core's
 * `CORE_CLOSED`; an option out of range core's `CORE_INVALID_OPTION`, at construction.
 *
 * @example
 * if (ResilienceErrors.CIRCUIT_OPEN.is(e)) showDegradedBanner();
 * ResilienceErrors.BULKHEAD_FULL.status; // 'RESOURCE_EXHAUSTED'
 */
export const ResilienceErrors = defineErrors('RESILIENCE', {
  TIMEOUT: {
    status: 'DEADLINE_EXCEEDED',
    message: (target: string | undefined, budgetMs: number) =>
      `${target === undefined ? 'the call' : `the call to ${target}`} exceeded its deadline (${budgetMs} ms)`,
    description:
      "The effective deadline (the policy's timeout, the call's deadline or the request context's, whichever comes first) passed; the operation's signal was aborted. Not retried: the caller's time is spent. `details.metadata.target` names the target when there is one.",
  },
  CIRCUIT_OPEN: {
    status: 'UNAVAILABLE',
    message: (target: string) => `circuit breaker for ${target} is open`,
    description:
      "The target's circuit breaker is open (or half-open with its probe under way): the call failed fast without leaving the process. It is `unprocessed`, so any operation may be retried, and the retry layer retries it at once, outside the budget, so the next attempt can pick another instance. `details.metadata.target` names the target; `cause` has the breaker's own error.",
  },
  BULKHEAD_FULL: {
    status: 'RESOURCE_EXHAUSTED',
    message: (target: string | undefined, maxConcurrent: number, maxQueue: number) =>
      `bulkhead full${target === undefined ? '' : ` for ${target}`}: ${maxConcurrent} running, ${maxQueue} queued`,
    retryable: false,
    description:
      'Every bulkhead slot is busy and its queue is full: the call was refused before it ran. Not retryable: retrying local overload only adds to it. `details.metadata.target` names the target when there is one.',
  },
  RATE_LIMITED: {
    status: 'RESOURCE_EXHAUSTED',
    message: (target: string | undefined) =>
      `rate limit reached${target === undefined ? '' : ` for ${target}`}`,
    retryable: false,
    description:
      'The rate limiter has no token left: the call was refused before it ran. Not retryable; `details.retryDelayMs` says when the next token comes, `details.metadata.target` names the target when there is one.',
  },
});

/**
 * The reason codes of {@link ResilienceErrors}, for comparisons.
 *
 * @example
 * if (isRefrontError(e) && e.reason === ResilienceReason.CIRCUIT_OPEN) showDegradedBanner();
 */
export const ResilienceReason = reasonsOf(ResilienceErrors);

/** One of the {@link ResilienceReason} codes. */
export type ResilienceReasonCode = (typeof ResilienceReason)[keyof typeof ResilienceReason];

/** @internal The details naming the target a refusal was about: none when there is no target. */
export function targetDetails(target: string | undefined): ErrorDetails {
  return target === undefined ? {} : { metadata: { target } };
}
