import { createMetricsRegistry } from '@refront/core';
import type { Database } from '@refront/data';
import { expect, it } from 'vitest';
import { defineWorkflow } from './defineWorkflow.js';
import { WorkflowErrors } from './errors.js';
import { describeEngines, effects, silent } from './testing/engines.js';
import { createWorkflowControl } from './WorkflowControl.js';
import { createWorkflowEngine, type WorkflowEngineOptions } from './WorkflowEngine.js';

const insert = (db: Pick<Database, 'query'>, runId: string, step: string) =>
  db.query('insert into effects (run_id, step) values ($1, $2)', [runId, step]);

/** reserve (undone by release), then a wait of the input's kind, then charge. */
const booking = defineWorkflow({
  name: 'booking',
  compensations: {
    release: async (c, _: null) => {
      await c.transaction((tx) => insert(tx, c.runId, 'release'));
    },
  },
  async run(ctx, input: { wait: 'signal' | 'sleep' }) {
    await ctx.transaction('reserve', (tx) => insert(tx, ctx.runId, 'reserve'), {
      compensate: { name: 'release', args: null },
    });
    if (input.wait === 'signal') await ctx.waitFor('go');
    else await ctx.sleep(600_000);
    await ctx.transaction('charge', (tx) => insert(tx, ctx.runId, 'charge'));
    return 'charged';
  },
});

/** A gate a test opens: `reached` resolves when code waits at it. */
function gate(): { reached: Promise<void>; wait: () => Promise<void>; open: () => void } {
  let arrived = (): void => undefined;
  let open = (): void => undefined;
  const reached = new Promise<void>((r) => {
    arrived = r;
  });
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return {
    reached,
    open,
    wait: () => {
      arrived();
      return opened;
    },
  };
}

/** work (undone by undo, counted in invocations) waits at the gate; then next. */
function gated(g: ReturnType<typeof gate>, db: Database) {
  return defineWorkflow({
    name: 'gated',
    compensations: {
      undo: async (c, _: null) => {
        await db.query('insert into invocations (run_id, step, runner) values ($1, $2, $3)', [
          c.runId,
          'undo',
          '-',
        ]);
        await c.transaction((tx) => insert(tx, c.runId, 'undo'));
      },
    },
    async run(ctx) {
      await ctx.step(
        'work',
        async () => {
          await g.wait();
          await insert(db, ctx.runId, 'work');
        },
        { compensate: { name: 'undo', args: null } },
      );
      await ctx.transaction('next', (tx) => insert(tx, ctx.runId, 'next'));
      return 'done';
    },
  });
}

/** An engine running `workflow` that sweeps every 20 ms. */
function engineOf(
  db: Database,
  workflow: ReturnType<typeof gated>,
  options: Partial<WorkflowEngineOptions> = {},
) {
  return createWorkflowEngine({ db, workflows: [workflow], logger: silent, pollIntervalMs: 20, ...options });
}

/** Polls until the run is parked: no lease, a wake-up time in the future (or none but a signal). */
async function parked(db: Database, runId: string): Promise<void> {
  await expect
    .poll(
      async () =>
        (
          await db.query(
            `select 1 from refront_workflow_runs where id = $1 and lease_owner is null and wake_at > now()`,
            [runId],
          )
        ).rowCount,
    )
    .toBe(1);
}

async function failureOf(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => {
      throw new Error('expected the run to fail');
    },
    (e: unknown) => e,
  );
}

describeEngines('cancelling a run', (fx) => {
  // The sweeper polls once a minute: only the cancel itself can wake a parked run in these tests.
  const quiet: Partial<WorkflowEngineOptions> = { logger: silent, pollIntervalMs: 60_000 };

  it('cancels a run waiting for a signal: wakes it at once, compensates, and ends compensated with the reason', async () => {
    const db = await fx.open();
    const metrics = createMetricsRegistry({ processMetrics: false });
    await using engine = await createWorkflowEngine({ db, workflows: [booking], metrics, ...quiet });
    const run = await engine.start(booking, { wait: 'signal' });
    await parked(db, run.id);
    await engine.cancel(run.id, 'the customer left');
    const e = await failureOf(run.result());
    expect(WorkflowErrors.FAILED.is(e) && e.details.metadata).toMatchObject({
      state: 'compensated',
      reason: 'WORKFLOW_CANCELLED',
      status: 'CANCELLED',
    });
    const status = await engine.status(run.id);
    expect(status.state).toBe('compensated');
    expect(status.error).toEqual({
      step: null,
      status: 'CANCELLED',
      reason: 'WORKFLOW_CANCELLED',
      message: `workflow run ${run.id} was cancelled: the customer left`,
    });
    expect((await effects(db, run.id)).map((r) => r.step)).toEqual(['reserve', 'release']);
    // Idempotent: a second cancel succeeds and changes nothing; the run takes no signal.
    await engine.cancel(run.id, 'again');
    expect((await engine.status(run.id)).error?.message).toContain('the customer left');
    await expect(engine.signal(run.id, 'go')).rejects.toSatisfy((x: unknown) =>
      WorkflowErrors.NOT_WAITING.is(x),
    );
    const json = await metrics.getMetricsAsJSON();
    const actions = json.find((m) => m.name === 'refront_workflow_actions_total')?.values ?? [];
    expect(actions.map((v) => [v.labels.workflow, v.labels.action, v.value])).toEqual([
      ['booking', 'cancel', 1],
    ]);
  });

  it('cancels a sleeping run before its timer is due', async () => {
    const db = await fx.open();
    await using engine = await createWorkflowEngine({ db, workflows: [booking], ...quiet });
    const run = await engine.start(booking, { wait: 'sleep' });
    await parked(db, run.id);
    await engine.cancel(run.id);
    expect(WorkflowErrors.FAILED.is(await failureOf(run.result()))).toBe(true);
    expect((await engine.status(run.id)).error?.message).toContain('cancelled: no reason given');
    expect((await effects(db, run.id)).map((r) => r.step)).toEqual(['reserve', 'release']);
  });

  it('lets the step that is executing finish, then stops at the next boundary (cancel from another process)', async () => {
    const db = await fx.open();
    const other = await fx.open(db.schema);
    const g = gate();
    const workflow = gated(g, db);
    await using engine = await engineOf(db, workflow);
    const run = await engine.start(workflow, {});
    await g.reached;
    // Another process, with no engine: only the journal carries the request.
    await createWorkflowControl(other).cancel(run.id, 'stop it');
    expect((await engine.status(run.id)).state).toBe('running');
    g.open();
    expect(WorkflowErrors.FAILED.is(await failureOf(run.result()))).toBe(true);
    expect((await effects(db, run.id)).map((r) => r.step)).toEqual(['work', 'undo']);
    const journal = await db.query<{ name: string }>(
      'select name from refront_workflow_steps where run_id = $1 order by seq',
      [run.id],
    );
    expect(journal.rows.map((r) => r.name)).toEqual(['work']);
    const undo = await db.query('select 1 from invocations where run_id = $1', [run.id]);
    expect(undo.rowCount).toBe(1);
  });

  it('stops at the next boundary when the request comes between two steps', async () => {
    const db = await fx.open();
    const g = gate();
    g.open();
    const between = gate();
    const workflow = gated(g, db);
    await using engine = await engineOf(db, workflow, {
      faultPoint: async (p) => {
        if (p.step === 'work' && p.when === 'after') await between.wait();
      },
    });
    const run = await engine.start(workflow, {});
    await between.reached; // work is journaled; next has not begun
    await createWorkflowControl(db).cancel(run.id, 'between');
    between.open();
    expect(WorkflowErrors.FAILED.is(await failureOf(run.result()))).toBe(true);
    expect((await effects(db, run.id)).map((r) => r.step)).toEqual(['work', 'undo']);
  });

  it('still cancels when the runner dies between the request and its next step', async () => {
    const dbA = await fx.open();
    const dbB = await fx.open(dbA.schema);
    const g = gate();
    g.open();
    const atNext = gate();
    const a = await engineOf(dbA, gated(g, dbA), {
      instanceId: 'A',
      faultPoint: async (p) => {
        if (p.step !== 'next' || p.when !== 'before') return;
        await atNext.wait();
        throw new Error('killed before next');
      },
    });
    await using b = await engineOf(dbB, gated(g, dbB), { instanceId: 'B' });
    const run = await a.start(gated(g, dbA), {});
    await atNext.reached;
    // A passed the boundary before the request; B takes the run over once A dies.
    await b.cancel(run.id, 'after the crash');
    const closing = a.close();
    atNext.open();
    await closing;
    expect(WorkflowErrors.FAILED.is(await failureOf(b.result(run.id)))).toBe(true);
    expect((await b.status(run.id)).error?.reason).toBe('WORKFLOW_CANCELLED');
    expect((await effects(dbB, run.id)).map((r) => r.step)).toEqual(['work', 'undo']);
  });

  it('refuses runs that are not running, unknown runs and bad reasons', async () => {
    const db = await fx.open();
    const g = gate();
    g.open();
    const workflow = gated(g, db);
    await using engine = await engineOf(db, workflow);
    const run = await engine.start(workflow, {});
    expect(await run.result()).toBe('done');
    const ended = await engine.cancel(run.id).catch((e: unknown) => e);
    expect(WorkflowErrors.WRONG_STATE.is(ended) && ended.status).toBe('FAILED_PRECONDITION');
    expect((ended as Error).message).toBe(`workflow run ${run.id} is completed: cancel does not apply`);
    const missing = await engine.cancel('nope').catch((e: unknown) => e);
    expect(WorkflowErrors.NOT_FOUND.is(missing)).toBe(true);
    const long = await engine.cancel(run.id, 'x'.repeat(501)).catch((e: unknown) => e);
    expect(WorkflowErrors.BAD_REASON.is(long) && long.status).toBe('INVALID_ARGUMENT');
    const notText = await engine.cancel(run.id, 42 as unknown as string).catch((e: unknown) => e);
    expect(WorkflowErrors.BAD_REASON.is(notText)).toBe(true);
  });
});
