import { defineErrors } from '@refront/core';

/**
 * The errors `@refront/testing` raises, each declared once with its status and meaning (listed in
 * `docs/errors.md#refronttesting`).
 *
 * @example
 * app.faults.call({ service: 'tickets' }, { kind: 'fail' }); // calls reject TESTING_INJECTED_FAULT
 * if (TestingErrors.WAIT_TIMEOUT.is(e)) console.log(app.events.all());
 */
export const TestingErrors = defineErrors('TESTING', {
  INJECTED_FAULT: {
    status: 'UNAVAILABLE',
    message: (where: string) => `fault injected by the test: ${where}`,
    description:
      'A `fail` fault of `@refront/testing` hit this call, publish or delivery. It is UNAVAILABLE and unprocessed (the target never ran), so retry policies and event retry ladders treat it as a lost connection.',
  },
  WAIT_TIMEOUT: {
    status: 'DEADLINE_EXCEEDED',
    message: (what: string, ms: number) => `${what} did not happen within ${ms} ms`,
    retryable: false,
    description:
      'A `waitFor` or `eventually` of `@refront/testing` gave up: what the test waited for did not happen in time (real time, not the test clock).',
  },
  INFRA_MISSING: {
    status: 'FAILED_PRECONDITION',
    message: (what: string) => what,
    retryable: false,
    description:
      '`startTestApp` was asked for PostgreSQL or RabbitMQ by name (`postgres`, `rabbitmq`) and it did not answer, or for RabbitMQ without its optional peers installed. (`auto` with `REFRONT_REQUIRE_INFRA=1` fails with `CORE_INFRA_MISSING`, from `findInfra`.)',
  },
  INVALID_STATE: {
    status: 'FAILED_PRECONDITION',
    message: (problem: string) => problem,
    retryable: false,
    description: 'The test app was used out of order: the clock installed twice, or used after `close()`.',
  },
});
