import { defineErrors, reasonsOf } from './defineErrors.js';
import { isRefrontError, type RefrontError } from './errors.js';

/**
 * The errors `@refront/core` raises, each declared once with its status and meaning (listed in
 * `docs/errors.md`). Sibling packages raise some of them too (`DRAINING`, `LOST_IN_FLIGHT`,
 * `DECODE_FAILED`…), so every lane answers the same.
 *
 * @example
 * throw CoreErrors.DRAINING('tickets'); // UNAVAILABLE CORE_DRAINING "tickets is shutting down"
 */
export const CoreErrors = defineErrors('CORE', {
  INTERNAL: {
    status: 'INTERNAL',
    message: (detail?: string) => (detail === undefined ? 'internal error' : `internal error (${detail})`),
    description:
      "A handler threw something that is not a `RefrontError`. Its message is not sent (it may hold internals): the server's log line with the trace id named in the message has it.",
  },
  DEADLINE_EXCEEDED: {
    status: 'DEADLINE_EXCEEDED',
    message: (detail?: string) =>
      detail === undefined ? 'the deadline passed' : `the deadline passed ${detail}`,
    description:
      "The call's deadline passed before it finished; the handler's signal was aborted. Not retried: the caller's time is spent.",
  },
  CANCELLED: {
    status: 'CANCELLED',
    message: 'the caller cancelled the call',
    description:
      "The caller cancelled the call (aborted its signal, or went away); the handler's signal was aborted.",
  },
  DRAINING: {
    status: 'UNAVAILABLE',
    message: (service: string) => `${service} is shutting down`,
    description:
      'The service is draining or stopped and refused the call before running its handler (never the answer of a handler that ran: see `CORE_DEPENDENCY_UNAVAILABLE` and `CORE_LOST_IN_FLIGHT`). Any operation may be retried on another instance.',
  },
  LOST_IN_FLIGHT: {
    status: 'UNAVAILABLE',
    message: (what: string) => what,
    description:
      'The call was sent but ended without an answer (the connection was lost after the request was written, or the server stopped before the call finished). The server may have processed it, so only idempotent operations are retried.',
  },
  DEPENDENCY_UNAVAILABLE: {
    status: 'UNAVAILABLE',
    message: (what: string) => what,
    description:
      'A handler failed because a service it called was draining. Unlike `CORE_DRAINING`, the handler ran, so the caller cannot assume nothing happened.',
  },
  NO_SERVER: {
    status: 'UNAVAILABLE',
    message: (service: string) => `no server for ${service} is running`,
    description:
      'No server for the called service is reachable (none registered, none started, or all refused).',
  },
  UNIMPLEMENTED: {
    status: 'UNIMPLEMENTED',
    message: (path: string, service: string) => `method ${path} is not served by ${service}`,
    description: 'The method is not part of the called service.',
  },
  DECODE_FAILED: {
    status: 'INVALID_ARGUMENT',
    message: (what: string, why: string) => `${what} does not decode: ${why}`,
    retryable: false,
    description:
      'A message body is not valid wire data for its contract (`decodeMessage`: field number 0, a group, a truncated field, a string that is not UTF-8, at any depth; the message names the offset). A request is refused before any handler, an event dead-lettered at once; a response that does not decode is INTERNAL.',
  },
  UNSUPPORTED_CONTENT_TYPE: {
    status: 'INVALID_ARGUMENT',
    message: (contentType: string) => `content type "${contentType.slice(0, 100)}" is not protobuf or JSON`,
    retryable: false,
    description: 'An event body is neither protobuf nor JSON: dead-lettered at once, never decoded.',
  },
  INVALID_CONFIG: {
    status: 'INVALID_ARGUMENT',
    message: (problems: readonly string[]) =>
      `invalid configuration (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems
        .map((p) => `  - ${p}`)
        .join('\n')}`,
    retryable: false,
    description:
      'The environment does not satisfy the config schema; every bad or missing variable is named. The process exits 1 before binding.',
  },
  INVALID_OPTION: {
    status: 'INVALID_ARGUMENT',
    message: (problem: string) => problem,
    retryable: false,
    description: 'A factory got an option it cannot use (thrown at construction, never per call).',
  },
  INVALID_STATE: {
    status: 'FAILED_PRECONDITION',
    message: (problem: string) => problem,
    retryable: false,
    description:
      'A lifecycle step came in the wrong order: a component added to a service that is stopping, a service started twice, a server given a contract after it started.',
  },
  NO_HANDLER: {
    status: 'UNIMPLEMENTED',
    message: (type: string, group: string) => `no handler for ${type} in group ${group}`,
    retryable: false,
    description: 'Dead-letter reason: an event reached a consumer group with no handler for its type.',
  },
  HANDLER_FAILED: {
    status: 'UNKNOWN',
    message: (what: string) => what,
    retryable: true,
    description:
      'An event handler threw something that is not a `RefrontError`: retried after the next delay, then dead-lettered as `CORE_ATTEMPTS_EXHAUSTED`.',
  },
  ATTEMPTS_EXHAUSTED: {
    status: 'ABORTED',
    message: (attempts: number, last: RefrontError) =>
      `failed ${attempts} time(s); last error: ${last.reason}: ${last.message}`,
    retryable: false,
    description:
      'Dead-letter reason: an event handler failed on every allowed attempt; the last error is named.',
  },
  INFRA_MISSING: {
    status: 'FAILED_PRECONDITION',
    message: (what: string) => what,
    retryable: false,
    description:
      'A test needs PostgreSQL or RabbitMQ, `REFRONT_REQUIRE_INFRA=1` (CI) says it must not skip, and the server did not answer (`findInfra`, `startTestApp` with `auto`).',
  },
  DEAD_LETTER_NOT_FOUND: {
    status: 'NOT_FOUND',
    message: (eventId: string, group: string) => `no dead letter ${eventId} in ${group}`,
    description: "`replay` named an event that is not among the group's dead letters.",
  },
  CLOSED: {
    status: 'UNAVAILABLE',
    message: (what: string) => `${what} is closed`,
    retryable: false,
    description: 'The bus, server or client was used after `close()`.',
  },
  MISSING_TOKEN: {
    status: 'UNAUTHENTICATED',
    message: (hadHeader: boolean) =>
      hadHeader ? 'authorization is not a bearer token' : 'a bearer token is required',
    retryable: false,
    description: 'A server that verifies bearer tokens got a call without one (or with another scheme).',
  },
  BAD_TOKEN: {
    status: 'UNAUTHENTICATED',
    message: 'the bearer token did not verify',
    retryable: false,
    description: "The server's token verifier refused the token, returned no principal, or threw.",
  },
  UNAUTHENTICATED_CALLER: {
    status: 'UNAUTHENTICATED',
    message:
      'this service accepts only authenticated callers: present a client certificate (in process: call through a channel with a caller)',
    retryable: false,
    description:
      'A server that declares its callers got a call with no verified identity: no client certificate (mutual TLS), no caller on the in-process channel and no verified token.',
  },
  CALLER_NOT_ALLOWED: {
    status: 'PERMISSION_DENIED',
    message: (identity: string, path: string) => `${identity} is not a declared caller of ${path}`,
    retryable: false,
    description:
      "The authenticated caller is not declared as a caller of the method (the server's `callers`); refused before any handler.",
  },
  INVALID_IDEMPOTENCY_KEY: {
    status: 'INVALID_ARGUMENT',
    message: (length: number) =>
      `an idempotency key must be 1 to 255 printable ASCII characters (got ${length} characters)`,
    retryable: false,
    description:
      'An idempotency key (call option or inbound `x-refront-idempotency-key`) is empty, longer than 255 characters or not printable ASCII; refused before any handler.',
  },
  INVALID_MESSAGE: {
    status: 'INVALID_ARGUMENT',
    message: (what: string) => what,
    retryable: false,
    description:
      'A request or event broke the validation rules of its contract; its field violations name each field and rule. Refused before any handler; an event is dead-lettered at once.',
  },
  OPTIONAL_DEPENDENCY_MISSING: {
    status: 'FAILED_PRECONDITION',
    message: (feature: string, missing: string, packages: readonly string[]) =>
      `${feature} needs ${packages.join(', ')}; ${missing} is not installed: npm install ${packages.join(' ')}`,
    retryable: false,
    description:
      'A feature that loads an optional peer dependency on first use (the OpenTelemetry SDK for `setupTracing`, PGlite for `createEmbeddedPostgres`) could not import it. Install the packages the message names; nothing else pulls them in.',
  },
});

/** The reason codes of {@link CoreErrors}, for comparisons: `e.reason === CoreReason.DRAINING`. */
export const CoreReason = reasonsOf(CoreErrors);

/**
 * Turns anything thrown into a {@link RefrontError}. A RefrontError passes through unchanged; an
 * abort turns into CANCELLED or DEADLINE_EXCEEDED; anything else becomes INTERNAL with the
 * original kept in `cause` (its message is not sent to callers: it may hold internals).
 */
export function toRefrontError(e: unknown): RefrontError {
  if (isRefrontError(e)) return e;
  if (e instanceof Error && e.name === 'TimeoutError') return CoreErrors.DEADLINE_EXCEEDED.with({ cause: e });
  if (e instanceof Error && e.name === 'AbortError') return CoreErrors.CANCELLED.with({ cause: e });
  return CoreErrors.INTERNAL.with({ cause: e });
}

/** Shorthand for {@link CoreErrors}.INVALID_OPTION, thrown by factories at construction. */
export function invalidOption(message: string): RefrontError {
  return CoreErrors.INVALID_OPTION(message);
}
