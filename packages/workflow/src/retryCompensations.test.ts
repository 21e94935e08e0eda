import { createMetricsRegistry } from '@refront/core';
import type { Database } from '@refront/data';
import { expect, it } from 'vitest';
import { defineWorkflow } from './defineWorkflow.js';
import { WorkflowErrors } from './errors.js';
import { describeEngines, effects, silent } from './testing/engines.js';
import { createWorkflowControl } from './WorkflowControl.js';
import { createWorkflowEngine } from './WorkflowEngine.js';

/**
 * pay (undone by refund), then ship, which fails. Every refund invocation is counted in
 * `invocations` (its own statement, as a call to a payment provider would be); its effect is an
 * `effects` row written in the transaction that marks it done. While `provider.down`, refunds fail.
 */
function payment(db: Database, runner: string, provider: { down: boolean }) {
  return defineWorkflow({
    name: 'payment',
    compensations: {
      refund: async (c, _: null) => {
        await db.query('insert into invocations (run_id, step, runner) values ($1, $2, $3)', [
          c.runId,
          'refund',
          runner,
        ]);
        if (provider.down) throw new Error('payment provider unreachable');
        await c.transaction((tx) =>
          tx.query('insert into effects (run_id, step) values ($1, $2)', [c.runId, 'refund']),
        );
      },
    },
    async run(ctx) {
      await ctx.step('pay', async () => 'paid', { compensate: { name: 'refund', args: null } });
      await ctx.step('ship', async () => {
        throw new Error('out of stock');
      });
    },
  });
}

describeEngines('retrying dead compensations', (fx) => {
  it('runs a failed run’s dead compensations again, once, on one of two racing runners, asked by two operators at once', async () => {
    const dbA = await fx.open();
    const dbB = await fx.open(dbA.schema);
    const provider = { down: true };
    const metrics = createMetricsRegistry({ processMetrics: false });
    const options = {
      logger: silent,
      pollIntervalMs: 20,
      minBackoffMs: 5,
      maxBackoffMs: 10,
      compensationMaxAttempts: 2,
    };
    await using a = await createWorkflowEngine({
      db: dbA,
      workflows: [payment(dbA, 'A', provider)],
      instanceId: 'A',
      metrics,
      ...options,
    });
    await using b = await createWorkflowEngine({
      db: dbB,
      workflows: [payment(dbB, 'B', provider)],
      instanceId: 'B',
      ...options,
    });
    const run = await a.start(payment(dbA, 'A', provider), {});
    const first = await run.result().catch((e: unknown) => e);
    expect(WorkflowErrors.FAILED.is(first) && first.details.metadata?.state).toBe('failed');
    const dead = await dbA.query('select state, attempts, last_error from refront_workflow_compensations');
    expect(dead.rows).toEqual([{ state: 'dead', attempts: 2, last_error: 'payment provider unreachable' }]);

    provider.down = false;
    // Two operators at once (one through the engine, one with no engine): one wins, the other
    // finds the run compensating.
    const asked = await Promise.allSettled([
      a.retryCompensations(run.id),
      createWorkflowControl(dbB, { metrics }).retryCompensations(run.id),
    ]);
    expect(asked.map((s) => s.status).sort()).toEqual(['fulfilled', 'rejected']);
    const refused = asked.find((s) => s.status === 'rejected') as PromiseRejectedResult;
    expect(WorkflowErrors.WRONG_STATE.is(refused.reason) && refused.reason.status).toBe(
      'FAILED_PRECONDITION',
    );

    const again = await b.result(run.id).catch((e: unknown) => e);
    expect(WorkflowErrors.FAILED.is(again) && again.details.metadata).toMatchObject({
      state: 'compensated',
      reason: 'CORE_INTERNAL',
    });
    // Two dead attempts, then exactly one more on whichever runner claimed it; one effect.
    const calls = await dbA.query<{ n: number }>(
      `select count(*)::integer as n from invocations where run_id = $1 and step = 'refund'`,
      [run.id],
    );
    expect(calls.rows[0]?.n).toBe(3);
    expect((await effects(dbA, run.id)).map((r) => r.step)).toEqual(['refund']);
    // Attempts count from the retry; the last error stays as the record of why it was retried.
    const done = await dbA.query('select state, attempts, last_error from refront_workflow_compensations');
    expect(done.rows).toEqual([{ state: 'done', attempts: 1, last_error: 'payment provider unreachable' }]);
    const json = await metrics.getMetricsAsJSON();
    const actions = json.find((m) => m.name === 'refront_workflow_actions_total')?.values ?? [];
    expect(actions.map((v) => [v.labels.workflow, v.labels.action, v.value])).toEqual([
      ['payment', 'retry-compensations', 1],
    ]);
  });

  it('refuses a run that is not failed, and an unknown run', async () => {
    const db = await fx.open();
    const provider = { down: false };
    await using engine = await createWorkflowEngine({
      db,
      workflows: [payment(db, 'A', provider)],
      logger: silent,
      pollIntervalMs: 20,
    });
    const run = await engine.start(payment(db, 'A', provider), {});
    await run.result().catch(() => undefined);
    expect((await engine.status(run.id)).state).toBe('compensated');
    const e = await engine.retryCompensations(run.id).catch((x: unknown) => x);
    expect((e as Error).message).toBe(
      `workflow run ${run.id} is compensated: retrying compensations does not apply`,
    );
    expect(
      WorkflowErrors.NOT_FOUND.is(await engine.retryCompensations('nope').catch((x: unknown) => x)),
    ).toBe(true);
  });
});
