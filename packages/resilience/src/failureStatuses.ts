import { isRefrontError, type Status, toRefrontError } from '@refront/core';

/** Statuses that count as a failure of the target; the others (NOT_FOUND, INVALID_ARGUMENT…) are answers. */
export const DEFAULT_FAILURE_STATUSES: readonly Status[] = [
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'INTERNAL',
  'UNKNOWN',
  'DATA_LOSS',
];

const DEFAULTS: ReadonlySet<Status> = new Set(DEFAULT_FAILURE_STATUSES);

/** The `failureStatuses` of each breaker pool, and of each policy composed with one. */
const failureStatusesOf = new WeakMap<object, ReadonlySet<Status>>();

/** @internal A breaker pool records the statuses it counts, so `isInstanceFailure` can follow them. */
export function recordFailureStatuses(pool: object, statuses: ReadonlySet<Status>): void {
  failureStatusesOf.set(pool, statuses);
}

/** @internal `policy()` records its breaker layer's statuses under the policy it makes. */
export function inheritFailureStatuses(policy: object, layers: readonly object[]): void {
  for (const layer of layers) {
    const statuses = failureStatusesOf.get(layer);
    if (statuses) failureStatusesOf.set(policy, statuses);
  }
}

/**
 * Whether `error` counts against the instance that answered it (what a transport reports to its
 * balancer's outlier detection): by the `failureStatuses` of `policy`'s breaker layer, so the
 * balancer and the breaker agree, else by {@link DEFAULT_FAILURE_STATUSES}. Anything else,
 * including an error that is not a `RefrontError`, is an answer, not the instance's fault.
 *
 * @example
 * pick.done(!isInstanceFailure(error, channel.policy));
 */
export function isInstanceFailure(error: unknown, policy?: object): boolean {
  if (!isRefrontError(error)) return false;
  const statuses = (policy && failureStatusesOf.get(policy)) || DEFAULTS;
  return statuses.has(error.status);
}

/**
 * @internal The breaker's side of the same question: whether `error`, which ended a call to a
 * target, counts against it by `statuses`. A call that was aborted counts only when its deadline
 * fired and `DEADLINE_EXCEEDED` is one of `statuses` (the target was too slow), or when it was a
 * half-open breaker's probe (`probing`: an unanswered probe proves nothing, and a success would
 * close the breaker); the caller's own cancellations never count. Any other error counts by its
 * status, an error that is not a `RefrontError` as `INTERNAL`.
 */
export function isTargetFailure(
  error: unknown,
  statuses: ReadonlySet<Status>,
  aborted: boolean,
  abortReason: unknown,
  probing: boolean,
): boolean {
  if (aborted) {
    if (probing) return true;
    const status = toRefrontError(abortReason).status;
    return status === 'DEADLINE_EXCEEDED' && statuses.has(status);
  }
  return statuses.has(toRefrontError(error).status);
}
