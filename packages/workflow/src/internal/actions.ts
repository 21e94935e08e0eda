import type { Database } from '@refront/data';
import { WorkflowErrors } from '../errors.js';
import type { RunState } from '../WorkflowEngine.js';
import type { WorkflowMetrics } from './metrics.js';
import type { Tables } from './RunLease.js';

/** The longest cancel reason kept, in characters. */
const MAX_REASON = 500;

/** What an operator action needs: the journal, and where to count it. */
export interface ActionEnv {
  readonly db: Database;
  readonly tables: Tables;
  readonly metrics: WorkflowMetrics | undefined;
}

function checkedReason(reason: unknown): string | null {
  if (reason === undefined || reason === null) return null;
  if (typeof reason !== 'string') throw WorkflowErrors.BAD_REASON('must be a string');
  if (reason.length > MAX_REASON) throw WorkflowErrors.BAD_REASON(`is longer than ${MAX_REASON} characters`);
  return reason;
}

/**
 * Records a cancel request on a running run, under the run row's lock, and makes a parked run
 * due now. The runner holding the run (or the next to claim it) reads the request before its next
 * step and stops there. A second request changes nothing.
 */
export async function requestCancel(env: ActionEnv, runId: string, reason: unknown): Promise<void> {
  const why = checkedReason(reason);
  const workflow = await env.db.transaction(async (tx) => {
    const { rows } = await tx.query<{ state: RunState; workflow: string; requested: boolean }>(
      `select state, workflow, cancel_requested_at is not null as requested
       from ${env.tables.runs} where id = $1 for update`,
      [runId],
    );
    const run = rows[0];
    if (!run) throw WorkflowErrors.NOT_FOUND(runId);
    if (run.requested) return undefined;
    if (run.state !== 'running') throw WorkflowErrors.WRONG_STATE(runId, run.state, 'cancel');
    // wake_at = now(): a run parked on a timer or a signal is claimed by the next sweep; a run
    // that is executing keeps its lease (the claim needs it expired) and reads the request itself.
    await tx.query(
      `update ${env.tables.runs} set cancel_requested_at = now(), cancel_reason = $2, wake_at = now(),
         updated_at = now() where id = $1`,
      [runId, why],
    );
    return run.workflow;
  });
  if (workflow !== undefined) env.metrics?.actions.inc({ workflow, action: 'cancel' });
}

/**
 * Puts a failed run's dead compensations back to pending (attempts from zero; the last error
 * stays until a new attempt overwrites it) and the run to `compensating` without a lease, under
 * the run row's lock: one request wins, and one runner's claim (epoch + 1) runs them.
 */
export async function retryDeadCompensations(env: ActionEnv, runId: string): Promise<void> {
  const workflow = await env.db.transaction(async (tx) => {
    const { rows } = await tx.query<{ state: RunState; workflow: string }>(
      `select state, workflow from ${env.tables.runs} where id = $1 for update`,
      [runId],
    );
    const run = rows[0];
    if (!run) throw WorkflowErrors.NOT_FOUND(runId);
    if (run.state !== 'failed') throw WorkflowErrors.WRONG_STATE(runId, run.state, 'retrying compensations');
    await tx.query(
      `update ${env.tables.compensations} set state = 'pending', attempts = 0
       where run_id = $1 and state = 'dead'`,
      [runId],
    );
    await tx.query(
      `update ${env.tables.runs} set state = 'compensating', lease_owner = null, lease_until = null,
         wake_at = null, updated_at = now() where id = $1`,
      [runId],
    );
    return run.workflow;
  });
  env.metrics?.actions.inc({ workflow, action: 'retry-compensations' });
}
