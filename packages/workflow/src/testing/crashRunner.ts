/**
 * Child process of the crash test: starts (or finds) run `RUN_ID` of a five-step workflow on
 * PostgreSQL and dies by SIGKILL at the fault point `KILL_AT` (`<seq>:<before|after>`), or runs
 * it to the end and prints its output. Env: DATABASE_URL, SCHEMA, RUN_ID, KILL_AT.
 */
import { writeSync } from 'node:fs';
import { createLogger } from '@refront/core';
import { openDatabase } from '@refront/data';
import { createWorkflowEngine, defineWorkflow } from '@refront/workflow';
import { TEST_MIGRATIONS } from './migrations.js';

const logger = createLogger({ service: 'crash-runner', level: 'silent' });
const db = await openDatabase({
  schema: process.env.SCHEMA ?? '',
  url: process.env.DATABASE_URL,
  migrations: TEST_MIGRATIONS,
  logger,
});

const write = (step: string) =>
  [
    step,
    async (tx: { query(sql: string, p: unknown[]): Promise<unknown> }, runId: string) => {
      await tx.query('insert into effects (run_id, step) values ($1, $2)', [runId, step]);
    },
  ] as const;

const fiveSteps = defineWorkflow({
  name: 'five-steps',
  async run(ctx, input: { lines: number }) {
    const [lock, lockFn] = write('lock');
    await ctx.transaction(lock, (tx) => lockFn(tx, ctx.runId));
    const rate = await ctx.step('price', async () => 1_000 + input.lines);
    const [issue, issueFn] = write('issue');
    await ctx.transaction(issue, (tx) => issueFn(tx, ctx.runId));
    await ctx.sleep(5);
    const [publish, publishFn] = write('publish');
    await ctx.transaction(publish, (tx) => publishFn(tx, ctx.runId));
    return { total: rate * input.lines };
  },
});

const killAt = process.env.KILL_AT ?? 'none';
await using engine = await createWorkflowEngine({
  db,
  workflows: [fiveSteps],
  logger,
  leaseMs: 600,
  pollIntervalMs: 25,
  faultPoint: (p) => {
    if (`${p.seq}:${p.when}` === killAt) process.kill(process.pid, 'SIGKILL');
  },
});
const run = await engine.start(fiveSteps, { lines: 3 }, { id: process.env.RUN_ID ?? 'run-1' });
const output = await run.result();
writeSync(1, `${JSON.stringify(output)}\n`);
await engine.close();
await db.close();
