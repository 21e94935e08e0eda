import { defineErrors, type FieldViolation, type RefrontError } from '@refront/core';
import { reasonsOf } from '@refront/core/transport';

/**
 * The errors `@refront/discovery` raises, each declared once with its status and meaning (listed
 * in `docs/errors.md#refrontdiscovery`). A closed registry, resolver or pool raises core's
 * `CORE_CLOSED`; a bad factory option core's `CORE_INVALID_OPTION`.
 *
 * @example
 * throw DiscoveryErrors.UNREACHABLE.with({ cause: e }, 'consul health of tickets: timed out');
 * if (DiscoveryErrors.NO_INSTANCES.is(e)) return fallback();
 */
export const DiscoveryErrors = defineErrors('DISCOVERY', {
  UNREACHABLE: {
    status: 'UNAVAILABLE',
    message: (what: string) => what,
    description:
      'The registry backend (Consul agent, DNS server) cannot be reached (refused, timed out, DNS did not answer) or answered 5xx or 429; `cause` has the client error.',
  },
  BAD_RESPONSE: {
    status: 'UNAVAILABLE',
    message: (what: string) => what,
    retryable: false,
    description:
      'The backend answered something its API does not document (bad JSON, wrong shape, no `X-Consul-Index`). Not retried: the same call gets the same answer.',
  },
  REJECTED: {
    status: 'INTERNAL',
    message: (request: string, httpStatus: number, detail: string) => `${request}: ${httpStatus} ${detail}`,
    description:
      "The backend refused the request with an HTTP 4xx (a bad ACL token, an unknown check); `details.metadata.httpStatus` has the code. The service's registry configuration is at fault, not its caller's request, so it is INTERNAL whatever the 4xx.",
  },
  INVALID_INSTANCE: {
    status: 'INVALID_ARGUMENT',
    message: (violations: readonly FieldViolation[]) =>
      `invalid instance: ${violations.map((v) => `${v.field}: ${v.description}`).join('; ')}`,
    description:
      '`register` got an invalid instance or check (empty id, port out of range, metadata keys the backend does not accept…); `details.fieldViolations` lists each field.',
  },
  INVALID_SERVICE: {
    status: 'INVALID_ARGUMENT',
    message: 'service must be a non-empty string',
    description:
      '`resolve`, `watch` or `createInstancePool` got a service name that is empty or not a string; `details.fieldViolations` names `service`.',
  },
  NO_INSTANCES: {
    status: 'UNAVAILABLE',
    message: (service: string | undefined) =>
      `${service === undefined ? 'the balancer has' : `service ${service} has`} no healthy instance`,
    description:
      'A balancer had no instance to pick: none resolved, or the service has none healthy. Nothing was sent (`unprocessed`), so any call may retry it.',
  },
});

/**
 * The reason codes of {@link DiscoveryErrors}, for comparisons.
 *
 * @example
 * if (isRefrontError(e) && e.reason === DiscoveryReason.NO_INSTANCES) return fallback();
 */
export const DiscoveryReason = reasonsOf(DiscoveryErrors);

/** One of the {@link DiscoveryReason} codes. */
export type DiscoveryReasonCode = (typeof DiscoveryReason)[keyof typeof DiscoveryReason];

/** The `DISCOVERY_INVALID_INSTANCE` error listing `violations`, also in `details.fieldViolations`. */
export function invalidInstance(violations: readonly FieldViolation[]): RefrontError {
  return DiscoveryErrors.INVALID_INSTANCE.with({ details: { fieldViolations: violations } }, violations);
}
