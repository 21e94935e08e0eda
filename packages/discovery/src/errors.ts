import { CoreReason, type FieldViolation, RefrontError } from '@refront/core';

/**
 * Reasons raised by `@refront/discovery`. Each is the `reason` of a {@link RefrontError}; the
 * README has the table of statuses and whether each is retryable.
 *
 * @example
 * if (isRefrontError(e) && e.reason === DiscoveryReason.NO_INSTANCES) return fallback();
 */
export const DiscoveryReason = {
  /** The registry backend (Consul agent, DNS server) could not be reached or answered 5xx. */
  UNREACHABLE: 'DISCOVERY_UNREACHABLE',
  /** The backend answered something that is not what its API documents (bad JSON, wrong shape). */
  BAD_RESPONSE: 'DISCOVERY_BAD_RESPONSE',
  /** The backend refused the request (4xx: a bad token, an unknown check). */
  REJECTED: 'DISCOVERY_REJECTED',
  /** An instance passed to `register` is not valid (empty id, port out of range…). */
  INVALID_INSTANCE: 'DISCOVERY_INVALID_INSTANCE',
  /** A service name passed to `resolve` or `watch` is empty or not a string. */
  INVALID_SERVICE: 'DISCOVERY_INVALID_SERVICE',
  /** A balancer had no instance to pick: none resolved, or the service has none. */
  NO_INSTANCES: 'DISCOVERY_NO_INSTANCES',
} as const;

/** One of the {@link DiscoveryReason} codes. */
export type DiscoveryReasonCode = (typeof DiscoveryReason)[keyof typeof DiscoveryReason];

/** An UNAVAILABLE error for a backend that cannot be reached; retryable. */
export function unreachable(message: string, cause?: unknown): RefrontError {
  return new RefrontError('UNAVAILABLE', DiscoveryReason.UNREACHABLE, message, { cause, retryable: true });
}

/** An UNAVAILABLE error for a malformed answer; not retryable: the same call gets the same answer. */
export function badResponse(message: string, cause?: unknown): RefrontError {
  return new RefrontError('UNAVAILABLE', DiscoveryReason.BAD_RESPONSE, message, { cause, retryable: false });
}

/** An INVALID_ARGUMENT error listing what is wrong with an instance. */
export function invalidInstance(violations: readonly FieldViolation[]): RefrontError {
  const summary = violations.map((v) => `${v.field}: ${v.description}`).join('; ');
  return new RefrontError(
    'INVALID_ARGUMENT',
    DiscoveryReason.INVALID_INSTANCE,
    `invalid instance: ${summary}`,
    {
      details: { fieldViolations: violations },
      retryable: false,
    },
  );
}

/** The UNAVAILABLE error of a balancer with nothing to pick: nothing was sent, so any call may retry it. */
export function noInstances(service: string | undefined): RefrontError {
  const what = service === undefined ? 'the balancer has' : `service ${service} has`;
  return new RefrontError('UNAVAILABLE', DiscoveryReason.NO_INSTANCES, `${what} no healthy instance`, {
    retryable: true,
    unprocessed: true,
  });
}

/** The error of an operation on a closed registry, balancer or resolver. */
export function closedError(what: string): RefrontError {
  return new RefrontError('FAILED_PRECONDITION', CoreReason.CLOSED, `${what} is closed`, {
    retryable: false,
  });
}
