import { createService } from '@refront/core';
import { expect, it } from 'vitest';
import { defineWorkflow } from './defineWorkflow.js';
import { describeEngines, silent } from './testing/engines.js';
import { createWorkflowEngine } from './WorkflowEngine.js';
import { createWorkflowReader } from './WorkflowReader.js';
import { workflowOpsHandler } from './workflowOpsHandler.js';

const one = defineWorkflow({
  name: 'one',
  async run(ctx) {
    return ctx.step('only', async () => 1);
  },
});

describeEngines('workflow ops handler', (fx) => {
  it('serves the runs as JSON on the ops server, only with the token', async () => {
    const db = await fx.open();
    await using engine = await createWorkflowEngine({ db, workflows: [one], logger: silent });
    expect(await (await engine.start(one, {}, { id: 'run-1' })).result()).toBe(1);
    const service = createService({
      name: 'ops-test',
      version: '0',
      logger: silent,
      handleSignals: false,
      opsHost: '127.0.0.1',
    });
    service.opsRoute('/workflows', workflowOpsHandler(createWorkflowReader(db), { token: 's3cret' }));
    expect(() => service.opsRoute('/metrics', () => undefined)).toThrow(/free/);
    await service.start();
    try {
      const base = `http://127.0.0.1:${service.opsAddress?.port}`;
      const get = (path: string, token?: string) =>
        fetch(`${base}${path}`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
      expect((await get('/workflows/runs')).status).toBe(401);
      expect((await get('/workflows/runs', 'wrong')).status).toBe(401);
      const list = await get('/workflows/runs?workflow=one&state=completed', 's3cret');
      expect(list.status).toBe(200);
      expect(((await list.json()) as { runs: { id: string }[] }).runs.map((r) => r.id)).toEqual(['run-1']);
      const run = (await (await get('/workflows/runs/run-1', 's3cret')).json()) as {
        run: { steps: { name: string }[] };
      };
      expect(run.run.steps.map((s) => s.name)).toEqual(['only']);
      expect((await get('/workflows/runs/nope', 's3cret')).status).toBe(404);
      expect((await get('/workflows/runs?limit=0', 's3cret')).status).toBe(400);
      // The service's own endpoints are unchanged.
      expect((await get('/healthz')).status).toBe(200);
    } finally {
      await service.stop();
    }
  });
});
