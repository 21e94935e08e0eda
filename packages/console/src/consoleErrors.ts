import { defineErrors } from '@refront/core';
// biome-ignore lint/correctness/noUnusedImports: names the registry's type in the emitted .d.ts
import type { ErrorRegistry } from '@refront/core/transport';

/**
 * The errors `@refront/console` raises, each declared once with its status and meaning (listed
 * in `docs/errors.md#refrontconsole`). The console's HTTP API answers them as JSON
 * `{ error: { status, reason, message } }` with the status's HTTP code.
 *
 * @example
 * throw ConsoleErrors.UNAUTHORIZED(); // UNAUTHENTICATED CONSOLE_UNAUTHORIZED
 */
export const ConsoleErrors = defineErrors('CONSOLE', {
  TOKEN_REQUIRED: {
    status: 'FAILED_PRECONDITION',
    message:
      'the console needs a token outside development (set `token`, or `development: true` on a laptop)',
    description:
      "`createConsole` was enabled outside development without a `token`: the console shows every tenant's traces and can replay dead letters, so it refuses to start unprotected.",
  },
  UNAUTHORIZED: {
    status: 'UNAUTHENTICATED',
    message: 'the console needs its token (Authorization: Bearer <token>)',
    description:
      'A request to the console (its API, its OTLP receiver) came without the console token, or with another one. Send `Authorization: Bearer <token>`; OTLP exporters take it from `OTEL_EXPORTER_OTLP_HEADERS=authorization=Bearer%20<token>`.',
  },
  BAD_OTLP: {
    status: 'INVALID_ARGUMENT',
    message: (why: string) => `the OTLP request could not be read: ${why}`,
    description:
      'A `POST /v1/traces` body was neither an OTLP `ExportTraceServiceRequest` in protobuf (`application/x-protobuf`) nor in JSON (`application/json`).',
  },
  SPANS_NOT_STORED: {
    status: 'UNAVAILABLE',
    message: (why: string) => `the in-process span exporter could not store the spans: ${why}`,
    description:
      "An export of `createConsoleSpanExporter` failed: the console's store threw, or the exporter was shut down. The exporter reports it to the OpenTelemetry SDK (whose batch processor logs it and carries on) and never throws on the request path; those spans are not in the console.",
  },
  BAD_REQUEST: {
    status: 'INVALID_ARGUMENT',
    message: (why: string) => `the console refused the request: ${why}`,
    description:
      'A request the console cannot serve: an unsupported content type, a malformed body, an unknown file.',
  },
  TRACE_NOT_FOUND: {
    status: 'NOT_FOUND',
    message: (traceId: string) => `no trace ${traceId} in the console's store`,
    description:
      'The console keeps the most recent traces only (`maxTraces`): this one never arrived, or was evicted by newer ones.',
  },
  NO_CONTRACTS: {
    status: 'FAILED_PRECONDITION',
    message: 'this console has no contracts',
    description:
      'The contracts, API explorer or flow API was called on a console created without `contracts` (the descriptor sets of the services).',
  },
  GATEWAY_UNAVAILABLE: {
    status: 'UNAVAILABLE',
    message: (why: string) => `the API explorer could not reach the gateway: ${why}`,
    description:
      "The API explorer could not get a token for the chosen user from the host's `contracts.gateway.token` (in the demo, `POST /v1/dev/tokens`, served only with dev auth on), or the gateway did not answer.",
  },
  EXPLORER_OFF: {
    status: 'PERMISSION_DENIED',
    message: 'this console makes no calls: its API explorer is off',
    description:
      'An API explorer call (`POST /api/explorer/call`) on a console whose host turned the explorer off (`contracts.explorer: false`; `CONSOLE_EXPLORER=off` in the demo): a read-only console lists the methods and routes but calls none.',
  },
  NO_DEAD_LETTERS: {
    status: 'FAILED_PRECONDITION',
    message: 'this console has no dead-letter source',
    description: 'The dead-letter API was called on a console created without `deadLetters`.',
  },
  NO_WORKFLOWS: {
    status: 'NOT_FOUND',
    message: (service: string) => `this console has no workflow source for ${service}`,
    description:
      'The Workflows API was asked for a service the console was not given a `workflows` source for.',
  },
  RUN_NOT_FOUND: {
    status: 'NOT_FOUND',
    message: (service: string, runId: string) => `${service} has no workflow run ${runId}`,
    description: "The service's workflow journal has no run with that id.",
  },
  READ_ONLY_WORKFLOWS: {
    status: 'FAILED_PRECONDITION',
    message: (service: string) => `the workflow source of ${service} serves no actions`,
    description:
      'A workflow action (cancel, retry compensations) was asked of a source that only reads: a reader without a control, or an ops endpoint whose `workflowOpsHandler` was given no `control`.',
  },
  SOURCE_FAILED: {
    status: 'UNAVAILABLE',
    message: (url: string, why: string) => `the console could not read ${url}: ${why}`,
    description:
      "A service's ops endpoint (its workflow runs) did not answer, answered an error, or refused the console's token.",
  },
});
