import { createMetricsRegistry } from '@refront/core';
import { expect, it } from 'vitest';
import { defineWorkflow } from './defineWorkflow.js';
import { describeEngines, silent } from './testing/engines.js';
import { createWorkflowEngine } from './WorkflowEngine.js';

const two = defineWorkflow({
  name: 'two',
  compensations: { undo: async () => undefined },
  async run(ctx, input: { fail: boolean }) {
    await ctx.step('a', async () => 1, { compensate: { name: 'undo', args: null } });
    await ctx.step('b', async () => {
      if (input.fail) throw new Error('b failed');
    });
    return 'ok';
  },
});

describeEngines('workflow metrics', (fx) => {
  it('counts runs by outcome, steps executed and compensations', async () => {
    const db = await fx.open();
    const metrics = createMetricsRegistry({ processMetrics: false });
    await using engine = await createWorkflowEngine({
      db,
      workflows: [two],
      logger: silent,
      metrics,
      pollIntervalMs: 20,
    });
    await (await engine.start(two, { fail: false })).result();
    await (await engine.start(two, { fail: true })).result().catch(() => undefined);
    const json = await metrics.getMetricsAsJSON();
    const values = (name: string) => json.find((m) => m.name === name)?.values ?? [];
    expect(values('refront_workflow_runs_total').map((v) => [v.labels.outcome, v.value])).toEqual([
      ['completed', 1],
      ['compensated', 1],
    ]);
    const steps = values('refront_workflow_step_duration_seconds').filter((v) =>
      String((v as { metricName?: string }).metricName).endsWith('_count'),
    );
    expect(steps.map((v) => [v.labels.step, v.labels.outcome, v.value])).toEqual([
      ['a', 'ok', 2],
      ['b', 'ok', 1],
      ['b', 'error', 1],
    ]);
    expect(values('refront_workflow_compensations_total').map((v) => [v.labels.outcome, v.value])).toEqual([
      ['done', 1],
    ]);
  });
});
