import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { createRequestContext, type Logger, runWithContext, startSpan, toRefrontError } from '@refront/core';
import { parseTraceparent } from '@refront/core/transport';
import type { RunFailure, Workflow } from '../defineWorkflow.js';
import { WorkflowErrors } from '../errors.js';
import { type CompensateEnv, compensateRun } from './compensateRun.js';
import { type JournalEntry, RunContext } from './RunContext.js';
import { CANCEL_COLUMNS, type CancelColumns, type RunLease } from './RunLease.js';
import { Cancel, Interrupt, StepFailure, Suspend } from './signals.js';

/** A claimed run, as the claim statement returns it (with its cancel request). */
export interface RunRow extends CancelColumns {
  id: string;
  workflow: string;
  version: number;
  input: unknown;
  state: 'running' | 'compensating';
  epoch: number;
  /** The stored failure of a compensating run. */
  error: StoredError | null;
  /** The tenant of the request that started the run. */
  tenant: string | null;
  /** The W3C traceparent of the request that started the run. */
  traceparent: string | null;
}

/** The columns of a claimed run, in the order {@link RunRow} names them. */
export const RUN_ROW_COLUMNS = `id, workflow, version, input, state, epoch, error, tenant, traceparent, ${CANCEL_COLUMNS}`;

/** The cancel request a claimed row carries, if any. */
export function cancelOf(row: CancelColumns): Cancel | undefined {
  return row.cancel_requested ? new Cancel(row.cancel_reason) : undefined;
}

/** How an execution ended for this runner. */
export type ExecutionOutcome =
  | { readonly kind: 'completed' | 'compensated' | 'failed' }
  | { readonly kind: 'suspended'; readonly wakeAt: number }
  | { readonly kind: 'interrupted'; readonly why: Interrupt['why'] };

/** What the error column holds. */
export type StoredError = RunFailure;

/** Loads a run's journal. */
export async function loadJournal(env: CompensateEnv, runId: string): Promise<Map<number, JournalEntry>> {
  const { rows } = await env.db.query<{ seq: number; name: string; output: unknown }>(
    `select seq, name, output from ${env.tables.steps} where run_id = $1 order by seq`,
    [runId],
  );
  return new Map(rows.map((r) => [r.seq, { name: r.name, output: r.output }]));
}

/**
 * Executes a claimed run under its lease: replays the journal and runs the remaining steps, then
 * completes it; or, on a terminal failure, records it and runs the compensations. Every state
 * change is a compare-and-set on the lease's owner and epoch.
 */
export async function executeRun(
  env: CompensateEnv,
  logger: Logger,
  // biome-ignore lint/suspicious/noExplicitAny: runs of any workflow
  workflow: Workflow<any, any>,
  row: RunRow,
  lease: RunLease,
  fresh: boolean,
): Promise<ExecutionOutcome> {
  // The execution that start() launched belongs to the starting request's trace; a resumed one
  // (another process, or after a lease expired) is a trace of its own that links to it.
  const origin = parseTraceparent(row.traceparent ?? undefined);
  const span = startSpan(`workflow.run ${row.workflow}`, {
    kind: SpanKind.INTERNAL,
    ...(origin ? (fresh ? { parent: origin } : { links: [origin] }) : {}),
    attributes: {
      'workflow.run_id': row.id,
      'workflow.version': row.version,
      'workflow.resumed': !fresh,
      'workflow.runner': lease.owner,
      ...(row.tenant ? { 'refront.tenant': row.tenant } : {}),
    },
  });
  const ctx = createRequestContext({
    service: env.service,
    logger: env.logger,
    tenant: row.tenant ?? undefined,
    parent: span.spanContext(),
  });
  return runWithContext(ctx, () => execute(env, logger, workflow, row, lease, span));
}

async function execute(
  env: CompensateEnv,
  logger: Logger,
  // biome-ignore lint/suspicious/noExplicitAny: runs of any workflow
  workflow: Workflow<any, any>,
  row: RunRow,
  lease: RunLease,
  span: Span,
): Promise<ExecutionOutcome> {
  lease.start();
  try {
    let failure = row.error;
    if (row.state === 'running') {
      const ctx = new RunContext(
        env,
        row.id,
        row.version,
        await loadJournal(env, row.id),
        lease,
        span.spanContext(),
        row.tenant ?? undefined,
      );
      try {
        const output = await workflow.run(ctx, row.input);
        await transition(env, lease, 'running', 'completed', { output: output ?? null });
        return { kind: 'completed' };
      } catch (e: unknown) {
        if (e instanceof Suspend) return await suspend(env, lease, e);
        if (e instanceof Interrupt) throw e;
        const error =
          e instanceof Cancel
            ? stored(WorkflowErrors.CANCELLED(row.id, e.reason ?? 'no reason given'), undefined)
            : stored(e instanceof StepFailure ? e.error : e, ctx.lastStep);
        logger.warn(
          { runId: row.id, workflow: row.workflow, failure: error },
          e instanceof Cancel ? 'workflow run cancelled: compensating' : 'workflow run failed: compensating',
        );
        await transition(env, lease, 'running', 'compensating', { error });
        failure = error;
      }
    }
    const dead = await compensateRun(env, workflow.compensations, lease, failure ?? UNKNOWN_FAILURE);
    const kind = dead ? 'failed' : 'compensated';
    await transition(env, lease, 'compensating', kind, {});
    if (dead) logger.error({ runId: row.id, workflow: row.workflow }, 'workflow compensation dead-lettered');
    return { kind };
  } catch (e: unknown) {
    const interrupt = e instanceof Interrupt ? e : new Interrupt('database', e);
    span.setStatus({ code: SpanStatusCode.ERROR });
    if (interrupt.why !== 'lease-lost') await release(env, lease).catch(() => undefined);
    if (interrupt.why === 'database')
      logger.warn(
        { runId: row.id, err: interrupt.cause },
        'workflow run interrupted; it resumes after its lease',
      );
    return { kind: 'interrupted', why: interrupt.why };
  } finally {
    lease.stop();
    span.end();
  }
}

const UNKNOWN_FAILURE: StoredError = { step: null, status: 'UNKNOWN', reason: 'UNKNOWN', message: 'unknown' };

function stored(e: unknown, step: string | undefined): StoredError {
  const r = toRefrontError(e);
  return { step: step ?? null, status: r.status, reason: r.reason, message: r.message };
}

/** Compare-and-set of the run's state under the lease; releases the lease when the run ends. */
async function transition(
  env: CompensateEnv,
  lease: RunLease,
  from: 'running' | 'compensating',
  to: 'completed' | 'compensating' | 'compensated' | 'failed',
  values: { readonly output?: unknown; readonly error?: StoredError },
): Promise<void> {
  const ends = to !== 'compensating';
  const { rowCount } = await env.db.query(
    `update ${env.tables.runs} set state = $5, output = coalesce($6::jsonb, output), error = coalesce($7::jsonb, error),
       updated_at = now()${ends ? ', lease_owner = null, lease_until = null, wake_at = null' : ''}
     where id = $1 and lease_owner = $2 and epoch = $3 and state = $4`,
    [
      lease.runId,
      lease.owner,
      lease.epoch,
      from,
      to,
      values.output === undefined ? null : JSON.stringify(values.output),
      values.error === undefined ? null : JSON.stringify(values.error),
    ],
  );
  if (rowCount === 0) throw new Interrupt('lease-lost');
}

/**
 * Puts the run aside until `wakeAt`, or at once when the awaited signal has already come or a
 * cancel was requested (read in this statement: a request that came while the run was parking
 * is not overwritten by its timer).
 */
async function suspend(env: CompensateEnv, lease: RunLease, s: Suspend): Promise<ExecutionOutcome> {
  const wake = Number.isFinite(s.wakeAt) ? new Date(s.wakeAt).toISOString() : 'infinity';
  const { rowCount } = await env.db.query(
    `update ${env.tables.runs} set lease_owner = null, lease_until = null, updated_at = now(),
       wake_at = case when cancel_requested_at is not null then now() when $4::text is not null and exists (
         select 1 from ${env.tables.signals} s where s.run_id = $1 and s.name = $4 and not s.consumed
       ) then now() else $5::timestamptz end
     where id = $1 and lease_owner = $2 and epoch = $3 and state = 'running'`,
    [lease.runId, lease.owner, lease.epoch, s.waitingFor ?? null, wake],
  );
  if (rowCount === 0) throw new Interrupt('lease-lost');
  return { kind: 'suspended', wakeAt: s.wakeAt };
}

/** Gives the run back at once (closing, or the database failed): the next sweep of any runner takes it. */
async function release(env: CompensateEnv, lease: RunLease): Promise<void> {
  await env.db.query(
    `update ${env.tables.runs} set lease_owner = null, lease_until = null
     where id = $1 and lease_owner = $2 and epoch = $3`,
    [lease.runId, lease.owner, lease.epoch],
  );
}
