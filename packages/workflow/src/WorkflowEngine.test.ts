import { createInProcessEventBus, isRefrontError, on } from '@refront/core';
import { deriveIdempotencyKey } from '@refront/core/transport';
import { createOutbox, type Database, DataErrors } from '@refront/data';
import { ThingHappened } from '@refront/test-contracts';
import { describe, expect, it } from 'vitest';
import { defineWorkflow, type Workflow } from './defineWorkflow.js';
import { WorkflowErrors } from './errors.js';
import { describeEngines, effects, silent } from './testing/engines.js';
import { createWorkflowEngine, type WorkflowEngineOptions } from './WorkflowEngine.js';

/** Three steps, each writing one row to `effects` in its own journaled transaction. */
const three = defineWorkflow({
  name: 'three',
  async run(ctx, input: { n: number }) {
    let total = input.n;
    for (const step of ['a', 'b', 'c']) {
      total = await ctx.transaction(step, async (tx) => {
        await tx.query('insert into effects (run_id, step) values ($1, $2)', [ctx.runId, step]);
        return total + 1;
      });
    }
    return { total };
  },
});

function engineOn(db: Database, options: Partial<WorkflowEngineOptions> = {}) {
  return createWorkflowEngine({
    db,
    workflows: [three],
    logger: silent,
    pollIntervalMs: 20,
    minBackoffMs: 5,
    maxBackoffMs: 20,
    ...options,
  });
}

describeEngines('workflow engine', (fx) => {
  it('runs each step once, journals it, and returns the output', async () => {
    const db = await fx.open();
    await using engine = await engineOn(db);
    const run = await engine.start(three, { n: 1 });
    expect(await run.result()).toEqual({ total: 4 });
    expect((await effects(db, run.id)).map((r) => r.step)).toEqual(['a', 'b', 'c']);
    const journal = await db.query(
      'select seq, name, output from refront_workflow_steps where run_id = $1 order by seq',
      [run.id],
    );
    expect(journal.rows).toEqual([
      { seq: 0, name: 'a', output: 2 },
      { seq: 1, name: 'b', output: 3 },
      { seq: 2, name: 'c', output: 4 },
    ]);
    expect((await engine.status(run.id)).state).toBe('completed');
  });

  it('takes the run id as the idempotency key of a start', async () => {
    const db = await fx.open();
    await using engine = await engineOn(db);
    const first = await engine.start(three, { n: 1 }, { id: 'order-1' });
    const second = await engine.start(three, { n: 1 }, { id: 'order-1' });
    expect(second.id).toBe(first.id);
    expect(await second.result()).toEqual({ total: 4 });
    expect(await effects(db, 'order-1')).toHaveLength(3);
    const conflict = await engine.start(three, { n: 2 }, { id: 'order-1' }).catch((e: unknown) => e);
    expect(WorkflowErrors.ID_CONFLICT.is(conflict)).toBe(true);
  });

  it('resumes an interrupted run without running its journaled steps again', async () => {
    const db = await fx.open();
    let crashed = 0;
    await using engine = await engineOn(db, {
      faultPoint: (p) => {
        if (p.step === 'c' && p.when === 'before' && crashed++ === 0) throw new Error('crash here');
      },
    });
    const run = await engine.start(three, { n: 0 });
    expect(await run.result()).toEqual({ total: 3 });
    expect(crashed).toBe(2);
    expect((await effects(db, run.id)).map((r) => r.step)).toEqual(['a', 'b', 'c']);
  });

  it('gives a step the same idempotency key when it runs again after an interruption', async () => {
    const db = await fx.open();
    const keys: string[] = [];
    const calls = defineWorkflow({
      name: 'calls',
      async run(ctx) {
        return ctx.step('charge', async (s) => {
          keys.push(s.idempotencyKey);
          // The effect happened, then the database went away before the journal write.
          if (keys.length === 1) throw DataErrors.UNAVAILABLE('journal');
          return 'charged';
        });
      },
    });
    await using engine = await engineOn(db, { workflows: [calls] });
    const run = await engine.start(calls, {});
    expect(await run.result()).toBe('charged');
    const key = deriveIdempotencyKey(run.id, 'charge', 0);
    expect(keys).toEqual([key, key]);
  });

  it('retries a step that fails with a retryable error', async () => {
    const db = await fx.open();
    let attempts = 0;
    const flaky = defineWorkflow({
      name: 'flaky',
      async run(ctx) {
        return ctx.step('call', async (s) => {
          attempts++;
          if (s.attempt < 3) throw WorkflowErrors.LEASE_LOST('not really'); // ABORTED: retryable
          return s.attempt;
        });
      },
    });
    await using engine = await engineOn(db, { workflows: [flaky] });
    expect(await (await engine.start(flaky, {})).result()).toBe(3);
    expect(attempts).toBe(3);
  });

  it('commits a step, its journal entry and its outbox event together', async () => {
    const db = await fx.open();
    const bus = createInProcessEventBus({ service: 'wf', logger: silent });
    const received: string[] = [];
    await bus.subscribe('watchers', [on(ThingHappened, async (e) => void received.push(e.id))]);
    await using outbox = createOutbox({ db, source: 'wf', publisher: bus, pollIntervalMs: 20 });
    outbox.start();
    const emit = defineWorkflow({
      name: 'emit',
      async run(ctx, input: { id: string }) {
        await ctx.transaction('emit', async (tx) => {
          await tx.query('insert into effects (run_id, step) values ($1, $2)', [ctx.runId, 'emit']);
          await outbox.add(tx, ThingHappened, { id: input.id, sequence: 1 });
        });
        return input.id;
      },
    });
    await using engine = await engineOn(db, { workflows: [emit] });
    expect(await (await engine.start(emit, { id: 'thing-9' })).result()).toBe('thing-9');
    await outbox.flush();
    await expect.poll(() => received).toEqual(['thing-9']);
    await bus.close();
  });
});

/** Locks rows of `effects` for a run; a compensation deletes them. */
function saga(
  failUndo: number,
  maxAttempts = 10,
): { workflow: Workflow<{ fail: boolean }, string, { unlock: { step: string } }>; undos: () => number } {
  let undos = 0;
  const workflow = defineWorkflow({
    name: `saga-${failUndo}-${maxAttempts}`,
    compensations: {
      unlock: async (c, args: { step: string }) => {
        undos++;
        if (c.failure.reason !== 'WORKFLOW_NOT_WAITING' || c.failure.step !== 'issue')
          throw new Error('no failure');
        if (undos <= failUndo) throw new Error(`undo failure ${undos}`);
        await c.transaction((tx) =>
          tx.query('delete from effects where run_id = $1 and step = $2', [c.runId, args.step]),
        );
      },
    },
    async run(ctx, input: { fail: boolean }) {
      for (const step of ['lock-1', 'lock-2']) {
        await ctx.transaction(
          step,
          (tx) => tx.query('insert into effects (run_id, step) values ($1, $2)', [ctx.runId, step]),
          { compensate: { name: 'unlock', args: { step } } },
        );
      }
      await ctx.step('issue', async () => {
        if (input.fail) throw WorkflowErrors.NOT_WAITING('tickets', 'down'); // not retryable
      });
      return 'issued';
    },
  });
  return { workflow, undos: () => undos };
}

describeEngines('workflow compensation', (fx) => {
  it('runs compensations in reverse after a terminal failure, retrying a failing one until it succeeds', async () => {
    const db = await fx.open();
    const { workflow, undos } = saga(2);
    await using engine = await engineOn(db, { workflows: [workflow], compensationMaxAttempts: 5 });
    const run = await engine.start(workflow, { fail: true });
    const error = await run.result().catch((e: unknown) => e);
    expect(WorkflowErrors.FAILED.is(error)).toBe(true);
    expect(isRefrontError(error) && error.details.metadata).toMatchObject({
      state: 'compensated',
      step: 'issue',
      reason: 'WORKFLOW_NOT_WAITING',
    });
    expect(await effects(db, run.id)).toEqual([]);
    expect(undos()).toBe(4); // lock-2 failed twice then succeeded, lock-1 at once
    const { rows } = await db.query(
      'select seq, step, state, attempts from refront_workflow_compensations where run_id = $1 order by seq',
      [run.id],
    );
    expect(rows).toEqual([
      { seq: 0, step: 'lock-1', state: 'done', attempts: 1 },
      { seq: 1, step: 'lock-2', state: 'done', attempts: 3 },
    ]);
    expect((await engine.status(run.id)).state).toBe('compensated');
  });

  it('dead-letters a compensation that keeps failing, with its reason, and still runs the others', async () => {
    const db = await fx.open();
    const { workflow } = saga(1_000, 3);
    await using engine = await engineOn(db, { workflows: [workflow], compensationMaxAttempts: 3 });
    const run = await engine.start(workflow, { fail: true });
    await expect(run.result()).rejects.toSatisfy((e: unknown) => WorkflowErrors.FAILED.is(e));
    expect((await engine.status(run.id)).state).toBe('failed');
    const { rows } = await db.query(
      'select step, state, attempts, last_error from refront_workflow_compensations where run_id = $1 order by seq',
      [run.id],
    );
    expect(rows).toEqual([
      { step: 'lock-1', state: 'dead', attempts: 3, last_error: 'undo failure 6' },
      { step: 'lock-2', state: 'dead', attempts: 3, last_error: 'undo failure 3' },
    ]);
  });

  it('runs no compensation when the run completes', async () => {
    const db = await fx.open();
    const { workflow, undos } = saga(0);
    await using engine = await engineOn(db, { workflows: [workflow] });
    const run = await engine.start(workflow, { fail: false });
    expect(await run.result()).toBe('issued');
    expect(await effects(db, run.id)).toHaveLength(2);
    expect(undos()).toBe(0);
  });
});

describe('defineWorkflow', () => {
  it('refuses a version that is not a positive integer', () => {
    expect(() => defineWorkflow({ name: 'x', version: 0, run: async () => 1 })).toThrow(/version/);
  });
});
