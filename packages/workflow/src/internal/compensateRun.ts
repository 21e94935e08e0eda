import { deriveIdempotencyKey, sleep } from '@refront/core/transport';
import type { Transaction } from '@refront/data';
import type { CompensationContext, Compensations, RunFailure } from '../defineWorkflow.js';
import type { RunEnv } from './RunContext.js';
import type { RunLease } from './RunLease.js';
import { Interrupt } from './signals.js';

interface CompensationRow {
  seq: number;
  step: string;
  name: string;
  args: unknown;
  attempts: number;
}

/** What compensating needs beyond the run environment. */
export interface CompensateEnv extends RunEnv {
  readonly compensationMaxAttempts: number;
}

/**
 * Runs a failed run's pending compensations, last registered first, each retried with backoff
 * until it succeeds or reaches its attempts (then dead-lettered with its last error, and the
 * others still run). Attempts are persisted, so a resumed run continues the count.
 * @returns whether any compensation is dead-lettered.
 */
export async function compensateRun(
  env: CompensateEnv,
  compensations: Compensations,
  lease: RunLease,
  failure: RunFailure,
): Promise<boolean> {
  const { rows } = await env.db.query<CompensationRow>(
    `select seq, step, name, args, attempts from ${env.tables.compensations}
     where run_id = $1 and state = 'pending' order by seq desc`,
    [lease.runId],
  );
  for (const row of rows) await compensateOne(env, compensations[row.name], row, lease, failure);
  const dead = await env.db.query(
    `select 1 from ${env.tables.compensations} where run_id = $1 and state = 'dead' limit 1`,
    [lease.runId],
  );
  return dead.rowCount > 0;
}

async function compensateOne(
  env: CompensateEnv,
  handler: Compensations[string] | undefined,
  row: CompensationRow,
  lease: RunLease,
  failure: RunFailure,
): Promise<void> {
  const labels = { workflow: env.workflow, compensation: row.name };
  let attempts = row.attempts;
  let backoffMs = env.minBackoffMs;
  const markDone = async (tx: Transaction): Promise<void> => {
    await lease.fence(tx, 'compensating');
    await tx.query(
      `update ${env.tables.compensations} set state = 'done', attempts = attempts + 1
       where run_id = $1 and seq = $2 and state = 'pending'`,
      [lease.runId, row.seq],
    );
  };
  for (;;) {
    await lease.ensure();
    let marked = false;
    const c: CompensationContext = {
      runId: lease.runId,
      step: row.step,
      idempotencyKey: deriveIdempotencyKey(lease.runId, `compensate:${row.name}`, row.seq),
      attempt: attempts + 1,
      failure,
      transaction: (fn) =>
        env.db.transaction(async (tx) => {
          const out = await fn(tx);
          await markDone(tx);
          marked = true;
          return out;
        }),
    };
    try {
      if (!handler) throw new Error(`compensation ${row.name} is not in the workflow's compensations`);
      await handler(c, row.args);
      if (!marked) await env.db.transaction(markDone);
      env.metrics?.compensations.inc({ ...labels, outcome: 'done' });
      return;
    } catch (e: unknown) {
      if (e instanceof Interrupt) throw e;
      lease.throwIfLost();
      attempts++;
      const dead = !handler || attempts >= env.compensationMaxAttempts;
      const reason = e instanceof Error ? e.message : String(e);
      await env.db.transaction(async (tx) => {
        await lease.fence(tx, 'compensating');
        await tx.query(
          `update ${env.tables.compensations} set attempts = $3, last_error = $4, state = $5
           where run_id = $1 and seq = $2`,
          [lease.runId, row.seq, attempts, reason, dead ? 'dead' : 'pending'],
        );
      });
      env.metrics?.compensations.inc({ ...labels, outcome: dead ? 'dead' : 'retry' });
      if (dead) return;
      await sleep(backoffMs, lease.signal);
      backoffMs = Math.min(backoffMs * 2, env.maxBackoffMs);
    }
  }
}
