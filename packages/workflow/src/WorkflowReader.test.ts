import { RefrontError } from '@refront/core';
import { expect, it } from 'vitest';
import { defineWorkflow } from './defineWorkflow.js';
import { describeEngines, silent } from './testing/engines.js';
import { createWorkflowEngine } from './WorkflowEngine.js';
import { createWorkflowReader } from './WorkflowReader.js';

/** `flaky` fails once (retryably) then succeeds; `gate` waits for the test to open it. */
function workflows(gate: Promise<void>) {
  let flakyCalls = 0;
  const ok = defineWorkflow({
    name: 'ok',
    async run(ctx, input: { wait?: boolean }) {
      await ctx.step('flaky', async () => {
        if (flakyCalls++ === 0)
          throw new RefrontError('UNAVAILABLE', 'TEST_FLAKY', 'once', { retryable: true });
        return 1;
      });
      if (input.wait) await ctx.step('gate', () => gate);
      // Work inside a transactional step takes time that its journaled duration must include.
      await ctx.transaction('book', async (tx) => {
        await tx.query('select 1');
        await new Promise((r) => setTimeout(r, 30));
      });
      return 'ok';
    },
  });
  const undone = defineWorkflow({
    name: 'undone',
    compensations: {
      release: async () => undefined,
      broken: async () => {
        throw new Error('cannot undo');
      },
    },
    async run(ctx) {
      await ctx.step('reserve', async () => 'r', { compensate: { name: 'release', args: { id: 'r' } } });
      await ctx.step('charge', async () => 'c', { compensate: { name: 'broken', args: null } });
      await ctx.step('ship', async () => {
        throw new RefrontError('FAILED_PRECONDITION', 'TEST_NO_STOCK', 'out of stock');
      });
    },
  });
  return { ok, undone };
}

describeEngines('workflow reader', (fx) => {
  it('lists runs newest first with filters, and reads one run with its journal', async () => {
    const db = await fx.open();
    let open = (): void => undefined;
    const gate = new Promise<void>((r) => {
      open = r;
    });
    const { ok, undone } = workflows(gate);
    await using engine = await createWorkflowEngine({
      db,
      workflows: [ok, undone],
      logger: silent,
      instanceId: 'runner-1',
      pollIntervalMs: 20,
      minBackoffMs: 5,
      compensationMaxAttempts: 2,
    });
    const reader = createWorkflowReader(db);
    const before = Date.now() - 1_000;

    const done = await engine.start(ok, {}, { id: 'ok-1' });
    expect(await done.result()).toBe('ok');
    const failed = await engine.start(undone, {}, { id: 'undone-1' });
    await expect(failed.result()).rejects.toThrow(/TEST_NO_STOCK/);
    const waiting = await engine.start(ok, { wait: true }, { id: 'ok-2' });

    const all = await reader.listRuns();
    expect(all.map((r) => [r.id, r.state])).toEqual([
      ['ok-2', 'running'],
      ['undone-1', 'failed'],
      ['ok-1', 'completed'],
    ]);
    // The waiting run is held by its runner's lease; ended runs hold none.
    expect(all[0]?.leaseOwner).toBe('runner-1');
    expect(all[2]?.leaseOwner).toBeNull();
    expect(all[1]).toMatchObject({ deadCompensations: 1, stepCount: 2, error: { step: 'ship' } });
    expect(all[2]?.stepCount).toBe(2);

    expect((await reader.listRuns({ workflow: 'ok' })).map((r) => r.id)).toEqual(['ok-2', 'ok-1']);
    expect((await reader.listRuns({ state: ['failed', 'compensated'] })).map((r) => r.id)).toEqual([
      'undone-1',
    ]);
    expect(await reader.listRuns({ since: Date.now() + 60_000 })).toEqual([]);
    expect(await reader.listRuns({ since: before, limit: 1 })).toHaveLength(1);
    await expect(reader.listRuns({ limit: 0 })).rejects.toThrow(/limit/);
    await expect(reader.listRuns({ state: 'lost' as never })).rejects.toThrow(/state/);

    const journal = await reader.getRun('ok-1');
    expect(journal?.steps.map((s) => [s.name, s.attempts, s.output])).toEqual([
      ['flaky', 2, 1],
      ['book', 1, null],
    ]);
    expect(journal?.steps[1]?.durationMs).toBeGreaterThanOrEqual(25);
    const step = journal?.steps[0];
    expect(Date.parse(step?.completedAt ?? '') - Date.parse(step?.startedAt ?? '')).toBe(step?.durationMs);
    expect(journal).toMatchObject({ input: {}, output: 'ok', state: 'completed', tenant: null });

    const undoneJournal = await reader.getRun('undone-1');
    expect(undoneJournal?.steps.map((s) => s.name)).toEqual(['reserve', 'charge']);
    expect(undoneJournal?.compensations).toEqual([
      {
        seq: 0,
        step: 'reserve',
        name: 'release',
        args: { id: 'r' },
        state: 'done',
        attempts: 1,
        lastError: null,
      },
      {
        seq: 1,
        step: 'charge',
        name: 'broken',
        args: null,
        state: 'dead',
        attempts: 2,
        lastError: 'cannot undo',
      },
    ]);
    expect(undoneJournal?.error).toMatchObject({ step: 'ship', reason: 'TEST_NO_STOCK' });
    expect(await reader.getRun('nope')).toBeUndefined();

    open();
    expect(await waiting.result()).toBe('ok');
    expect((await reader.getRun('ok-2'))?.leaseOwner).toBeNull();
  });
});
