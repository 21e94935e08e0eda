import { expect, it } from 'vitest';
import { defineWorkflow } from './defineWorkflow.js';
import { WorkflowErrors } from './errors.js';
import { describeEngines, effects, silent } from './testing/engines.js';
import { createWorkflowEngine } from './WorkflowEngine.js';

const approval = defineWorkflow({
  name: 'approval',
  async run(ctx, input: { amount: number }) {
    await ctx.transaction('request', (tx) =>
      tx.query('insert into effects (run_id, step) values ($1, $2)', [ctx.runId, 'request']),
    );
    const decision = await ctx.waitFor<{ approved: boolean }>('decision');
    await ctx.sleep(30);
    await ctx.transaction('book', (tx) =>
      tx.query('insert into effects (run_id, step) values ($1, $2)', [ctx.runId, 'book']),
    );
    return { amount: input.amount, approved: decision.approved };
  },
});

const deadline = defineWorkflow({
  name: 'deadline',
  async run(ctx) {
    return ctx.waitFor('never', { timeoutMs: 30 });
  },
});

describeEngines('workflow timers and signals', (fx) => {
  it('parks a run on waitFor and resumes it (on another runner) when the signal comes, then after its timer', async () => {
    const db = await fx.open();
    const options = { db, workflows: [approval], logger: silent, pollIntervalMs: 20 };
    await using first = await createWorkflowEngine(options);
    const run = await first.start(approval, { amount: 7 });
    await expect.poll(async () => (await effects(db, run.id)).length).toBe(1);
    await first.close(); // the run is parked in the database, not in this process
    await using second = await createWorkflowEngine(options);
    await second.signal(run.id, 'decision', { approved: true });
    expect(await second.result(run.id)).toEqual({ amount: 7, approved: true });
    expect((await effects(db, run.id)).map((r) => r.step)).toEqual(['request', 'book']);
    await expect(second.signal(run.id, 'decision', {})).rejects.toSatisfy((e: unknown) =>
      WorkflowErrors.NOT_WAITING.is(e),
    );
  });

  it('takes a signal sent before the run waits for it', async () => {
    const db = await fx.open();
    await using engine = await createWorkflowEngine({
      db,
      workflows: [approval],
      logger: silent,
      pollIntervalMs: 20,
    });
    const run = await engine.start(approval, { amount: 1 });
    await engine.signal(run.id, 'decision', { approved: false });
    expect(await run.result()).toEqual({ amount: 1, approved: false });
  });

  it('fails a run whose signal does not come before its timeout', async () => {
    const db = await fx.open();
    await using engine = await createWorkflowEngine({
      db,
      workflows: [deadline],
      logger: silent,
      pollIntervalMs: 20,
    });
    const run = await engine.start(deadline, {});
    const e = await run.result().catch((x: unknown) => x);
    expect(WorkflowErrors.FAILED.is(e)).toBe(true);
    expect((await engine.status(run.id)).error?.reason).toBe('WORKFLOW_TIMEOUT');
  });
});
