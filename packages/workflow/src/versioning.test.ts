import { expect, it } from 'vitest';
import { defineWorkflow } from './defineWorkflow.js';
import { WorkflowErrors } from './errors.js';
import { describeEngines, silent } from './testing/engines.js';
import { createWorkflowEngine } from './WorkflowEngine.js';

function greet(version: number, steps: readonly string[]) {
  return defineWorkflow({
    name: 'greet',
    version,
    async run(ctx) {
      const out: string[] = [];
      for (const s of steps) out.push(await ctx.step(s, async () => `${s}@v${version}`));
      if (version === 1) await ctx.waitFor('go');
      return out;
    },
  });
}

describeEngines('workflow versions and replay', (fx) => {
  it('keeps a run on the version it started with after a new version is deployed', async () => {
    const db = await fx.open();
    const v1 = greet(1, ['hello']);
    const v2 = greet(2, ['hi', 'there']);
    await using old = await createWorkflowEngine({ db, workflows: [v1], logger: silent, pollIntervalMs: 20 });
    const run = await old.start(v1, {});
    await expect
      .poll(
        async () =>
          (await db.query('select 1 from refront_workflow_steps where run_id = $1', [run.id])).rowCount,
      )
      .toBe(1);
    await old.close();
    await using next = await createWorkflowEngine({
      db,
      workflows: [v1, v2],
      logger: silent,
      pollIntervalMs: 20,
    });
    const fresh = await next.start(v2, {});
    await next.signal(run.id, 'go');
    expect(await next.result(run.id)).toEqual(['hello@v1']);
    expect(await fresh.result()).toEqual(['hi@v2', 'there@v2']);
    expect((await next.status(run.id)).version).toBe(1);
  });

  it('replays a run against its journal and reports code that changed without a new version', async () => {
    const db = await fx.open();
    const v2 = greet(2, ['hi', 'there']);
    await using engine = await createWorkflowEngine({
      db,
      workflows: [v2],
      logger: silent,
      pollIntervalMs: 20,
    });
    const run = await engine.start(v2, {});
    await run.result();
    await engine.replay(run.id); // same code: nothing differs, nothing executes
    expect(
      (await db.query('select 1 from refront_workflow_steps where run_id = $1', [run.id])).rowCount,
    ).toBe(2);

    const edited = greet(2, ['hi', 'you']);
    await using changed = await createWorkflowEngine({
      db,
      workflows: [edited],
      logger: silent,
      pollIntervalMs: 20,
    });
    const e = await changed.replay(run.id).catch((x: unknown) => x);
    expect(WorkflowErrors.NONDETERMINISM.is(e)).toBe(true);

    let now = 0;
    const clocky = defineWorkflow({
      name: 'greet',
      version: 2,
      async run(ctx) {
        const out = [await ctx.step('hi', async () => 'hi@v2')];
        if (now++ > 0) out.push(await ctx.step('there', async () => 'there@v2')); // branches on state
        return out;
      },
    });
    await using branching = await createWorkflowEngine({
      db,
      workflows: [clocky],
      logger: silent,
      pollIntervalMs: 20,
    });
    await expect(branching.replay(run.id)).rejects.toSatisfy((x: unknown) =>
      WorkflowErrors.NONDETERMINISM.is(x),
    );
  });
});
