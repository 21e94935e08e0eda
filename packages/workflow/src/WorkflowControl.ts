import type { MetricsRegistry } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import type { Database } from '@refront/data';
import { requestCancel, retryDeadCompensations } from './internal/actions.js';
import { workflowMetrics } from './internal/metrics.js';
import { tablesOf } from './internal/RunLease.js';

/**
 * An operator's actions on runs: what {@link WorkflowEngine} does, and what
 * {@link createWorkflowControl} does without an engine. Both write the same requests to the
 * journal; the engines sharing the database carry them out.
 */
export interface WorkflowControl {
  /**
   * Requests that a `running` run stop and undo what it did. The request is durable (a column of
   * the run): the runner holding the run reads it before its next step starts (or the runner that
   * claims it after a crash does) and stops there; a run parked on `sleep` or `waitFor` is woken at
   * once (by the engine's own sweep; through {@link createWorkflowControl}, at the next one). A step
   * already executing is not interrupted: it finishes and is journaled, and the run stops before
   * the next one (or between two attempts of it). Then the run compensates like a failed run and
   * ends `compensated` (or `failed` when a compensation is dead-lettered), its error
   * `WORKFLOW_CANCELLED` with `reason`. A run whose code returns before reaching another step
   * boundary completes. Cancelling an already cancelled run succeeds and changes nothing.
   *
   * @throws RefrontError NOT_FOUND `WORKFLOW_NOT_FOUND`; FAILED_PRECONDITION `WORKFLOW_WRONG_STATE`
   *   when the run is not running (ended, or compensating after a failure); INVALID_ARGUMENT
   *   `WORKFLOW_BAD_REASON` for a reason that is not a string of at most 500 characters.
   */
  cancel(runId: string, reason?: string): Promise<void>;
  /**
   * Gives a `failed` run's dead-lettered compensations another round, once their cause is fixed:
   * each goes back to pending with its attempts from zero (its last error stays until a new
   * attempt replaces it), and the run to `compensating`, which the next sweep of any engine claims.
   * It ends `compensated`, or `failed` again.
   *
   * @throws RefrontError NOT_FOUND `WORKFLOW_NOT_FOUND`; FAILED_PRECONDITION `WORKFLOW_WRONG_STATE`
   *   when the run is not `failed` (a second, concurrent retry gets it too).
   */
  retryCompensations(runId: string): Promise<void>;
}

/** Options of {@link createWorkflowControl}. */
export interface WorkflowControlOptions {
  /** Registry for `refront_workflow_actions_total`. @default none */
  readonly metrics?: MetricsRegistry;
}

/**
 * The operator actions on the runs journaled in `db`, without an engine: for an ops endpoint or a
 * console in a process that runs no workflows. The engines on the database carry the requests
 * out at their next sweep (`pollIntervalMs`); an engine's own `cancel` and `retryCompensations`
 * write the same and sweep at once.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` when `db` is not a Database.
 * @example
 * const control = createWorkflowControl(db);
 * await control.cancel('order-o-1', 'customer withdrew the order');
 */
export function createWorkflowControl(db: Database, options: WorkflowControlOptions = {}): WorkflowControl {
  if (!db || typeof db.transaction !== 'function') throw invalidOption('db must be a Database');
  const env = {
    db,
    tables: tablesOf(db.schema),
    metrics: options.metrics ? workflowMetrics(options.metrics) : undefined,
  };
  return {
    cancel: (runId, reason) => requestCancel(env, runId, reason),
    retryCompensations: (runId) => retryDeadCompensations(env, runId),
  };
}
