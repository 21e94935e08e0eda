import { defineErrors } from '@refront/core';
import { reasonsOf } from '@refront/core/transport';

/**
 * The errors `@refront/workflow` raises, each declared once with its status and meaning (listed in
 * `docs/errors.md#refrontworkflow`).
 *
 * @example
 * if (WorkflowErrors.FAILED.is(e)) console.log(e.details.metadata?.step);
 */
export const WorkflowErrors = defineErrors('WORKFLOW', {
  NOT_MIGRATED: {
    status: 'FAILED_PRECONDITION',
    message: (schema: string) =>
      `schema ${schema} has no workflow tables: add workflowMigrations to the service's migrations`,
    description:
      "The database has no `refront_workflow_*` tables: pass `workflowMigrations` with the service's migrations to `openDatabase`.",
  },
  UNKNOWN_WORKFLOW: {
    status: 'NOT_FOUND',
    message: (name: string, version: number) => `workflow ${name} version ${version} is not registered`,
    description:
      'A run was started or replayed for a workflow name and version this engine was not given (`workflows` option).',
  },
  NOT_FOUND: {
    status: 'NOT_FOUND',
    message: (runId: string) => `workflow run ${runId} does not exist`,
    description: 'No run has this id in the service database.',
  },
  ID_CONFLICT: {
    status: 'ALREADY_EXISTS',
    message: (runId: string, existing: string) =>
      `workflow run ${runId} already exists as a run of ${existing} or with another input`,
    description:
      'A run id (the idempotency key of a start) was reused for another workflow or another input. Starting the same workflow with the same id and input returns the existing run instead.',
  },
  FAILED: {
    status: 'ABORTED',
    retryable: false,
    message: (runId: string, state: string, error: string) =>
      `workflow run ${runId} ended ${state}: ${error}`,
    description:
      "A run failed and was compensated (`details.metadata.state` is `compensated`), or its compensation was dead-lettered (`failed`). `details.metadata` carries the failed step and the step error's status and reason.",
  },
  NONDETERMINISM: {
    status: 'INTERNAL',
    retryable: false,
    message: (runId: string, seq: number, expected: string, actual: string) =>
      `workflow run ${runId} is not deterministic: call ${seq} is ${actual} but the journal has ${expected}`,
    description:
      'Replaying a run made a different sequence of steps than its journal holds: the code changed without a new version, or it branches on something other than step results (time, randomness, environment).',
  },
  LEASE_LOST: {
    status: 'ABORTED',
    message: (runId: string) => `the lease on workflow run ${runId} was lost to another runner`,
    description:
      "A runner's lease expired and another runner took the run: the first stops at its next step and journals nothing more. Internal to the engine; seen only in logs.",
  },
  TIMEOUT: {
    status: 'DEADLINE_EXCEEDED',
    message: (runId: string, name: string) => `workflow run ${runId} timed out waiting for signal ${name}`,
    description:
      '`waitFor` reached its `timeoutMs` before the signal arrived; the run fails and compensates.',
  },
  NOT_WAITING: {
    status: 'FAILED_PRECONDITION',
    retryable: false,
    message: (runId: string, state: string) => `workflow run ${runId} is ${state} and takes no signal`,
    description: 'A signal was sent to a run that has already ended.',
  },
  CANCELLED: {
    status: 'CANCELLED',
    retryable: false,
    message: (runId: string, reason: string) => `workflow run ${runId} was cancelled: ${reason}`,
    description:
      "An operator cancelled the run (`engine.cancel`, the ops API, the console): it stopped at its next step boundary and compensated what it had done. Stored as the run's error, with the reason given.",
  },
  WRONG_STATE: {
    status: 'FAILED_PRECONDITION',
    retryable: false,
    message: (runId: string, state: string, action: string) =>
      `workflow run ${runId} is ${state}: ${action} does not apply`,
    description:
      'An operator action does not apply to the run in its state: only a `running` run can be cancelled (cancelling an already cancelled run succeeds), only a `failed` run can have its compensations retried.',
  },
  BAD_REASON: {
    status: 'INVALID_ARGUMENT',
    retryable: false,
    message: (why: string) => `the cancel reason ${why}`,
    description: 'A cancel reason was not a string, or was longer than 500 characters.',
  },
});

/** The reason codes of {@link WorkflowErrors}, for code that compares reasons. */
export const WorkflowReason = reasonsOf(WorkflowErrors);

/** One reason code of `@refront/workflow`. */
export type WorkflowReasonCode = (typeof WorkflowReason)[keyof typeof WorkflowReason];
