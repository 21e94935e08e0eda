import type { Database } from '@refront/data';
import { describe, expect, it } from 'vitest';
import { defineWorkflow } from './defineWorkflow.js';
import { describeEngines, type EngineFixture, engineFixture, postgresUp, silent } from './testing/engines.js';
import { createWorkflowEngine, type WorkflowEngine } from './WorkflowEngine.js';

/**
 * Two steps per run: `call` records its invocation in its own autocommit statement (as a call to
 * another service would: nothing rolls it back), `book` writes a row in its journaled transaction.
 */
function counted(runner: string, db: Database) {
  return defineWorkflow({
    name: 'counted',
    async run(ctx, input: { n: number }) {
      const n = await ctx.step('call', async () => {
        await db.query('insert into invocations (run_id, step, runner) values ($1, $2, $3)', [
          ctx.runId,
          'call',
          runner,
        ]);
        await new Promise((r) => setImmediate(r));
        return input.n * 2;
      });
      await ctx.transaction('book', async (tx) => {
        await tx.query('insert into invocations (run_id, step, runner) values ($1, $2, $3)', [
          ctx.runId,
          'book',
          runner,
        ]);
        await tx.query('insert into effects (run_id, step) values ($1, $2)', [ctx.runId, 'book']);
      });
      return n;
    },
  });
}

interface Runners {
  /** The schema's first handle (runner 0's). */
  readonly db: Database;
  readonly engines: WorkflowEngine[];
  readonly workflow: ReturnType<typeof counted>;
}

/** `count` runners on separate database handles (separate pools on PostgreSQL) of one schema. */
async function runners(fx: EngineFixture, count: number): Promise<Runners> {
  const db = await fx.open();
  const dbs = [db, ...(await Promise.all(Array.from({ length: count - 1 }, () => fx.open(db.schema))))];
  const workflows = dbs.map((d, i) => counted(`runner-${i}`, d));
  const engines = await Promise.all(
    dbs.map((d, i) =>
      createWorkflowEngine({
        db: d,
        workflows: [workflows[i] as ReturnType<typeof counted>],
        logger: silent,
        instanceId: `runner-${i}`,
        pollIntervalMs: 20,
      }),
    ),
  );
  return { db, engines, workflow: workflows[0] as ReturnType<typeof counted> };
}

/** Waits (polling the table once per 100 ms) until `runs` runs have ended. */
async function allEnded(db: Database, runs: number): Promise<void> {
  await expect
    .poll(
      async () =>
        (
          await db.query<{ n: number }>(
            `select count(*)::integer as n from refront_workflow_runs where state in ('completed', 'compensated', 'failed')`,
          )
        ).rows[0]?.n,
      { timeout: 280_000, interval: 100 },
    )
    .toBe(runs);
}

/** Each run's output (n * 2), in run order. */
async function outputs(db: Database, runs: number): Promise<void> {
  const { rows } = await db.query<{ output: number }>(
    `select output from refront_workflow_runs order by (input->>'n')::integer`,
  );
  expect(rows.map((r) => r.output)).toEqual(Array.from({ length: runs }, (_, n) => n * 2));
}

/** Runs written straight to the journal, with no lease: every runner's sweep sees them at once. */
async function insertRuns(db: Database, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `run-${i}`);
  await db.query(
    `insert into refront_workflow_runs (id, workflow, version, input, state)
     select 'run-' || i, 'counted', 1, jsonb_build_object('n', i), 'running' from generate_series(0, $1::integer - 1) i`,
    [count],
  );
  return ids;
}

async function assertExactlyOnce(db: Database, runs: number): Promise<void> {
  const { rows } = await db.query<{ step: string; n: number; runs: number; max: number }>(
    `select step, count(*)::integer as n, count(distinct run_id)::integer as runs,
       max(c)::integer as max from (select run_id, step, count(*) over (partition by run_id, step) as c from invocations) x
     group by step order by step`,
  );
  expect(rows).toEqual([
    { step: 'book', n: runs, runs, max: 1 },
    { step: 'call', n: runs, runs, max: 1 },
  ]);
  const effects = await db.query<{ n: number }>('select count(*)::integer as n from effects');
  expect(effects.rows[0]?.n).toBe(runs);
  const states = await db.query<{ state: string; n: number }>(
    'select state, count(*)::integer as n from refront_workflow_runs group by state',
  );
  expect(states.rows).toEqual([{ state: 'completed', n: runs }]);
}

describeEngines('workflow: runners racing for the same runs', (fx) => {
  it('never lets two runners execute a step of one run', async () => {
    const { db, engines } = await runners(fx, 2);
    // Runs appear with no lease while both runners sweep the table every 20 ms.
    const ids = await insertRuns(db, 100);
    await allEnded(db, ids.length);
    await Promise.all(engines.map((e) => e.close()));
    await outputs(db, ids.length);
    await assertExactlyOnce(db, ids.length);
  }, 300_000);
});

describe.skipIf(!postgresUp)('workflow: 1,000 concurrent runs on three runners [postgres]', () => {
  const fx = engineFixture('postgres');
  it('finishes every run exactly once', async () => {
    const { db, engines, workflow } = await runners(fx, 3);
    await Promise.all(
      Array.from({ length: 1_000 }, (_, n) =>
        (engines[n % 3] as WorkflowEngine).start(workflow, { n }, { id: `load-${n}` }),
      ),
    );
    await allEnded(db, 1_000);
    await Promise.all(engines.map((e) => e.close()));
    await outputs(db, 1_000);
    await assertExactlyOnce(db, 1_000);
  }, 300_000);
});
