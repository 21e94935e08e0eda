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

const waiting = defineWorkflow({
  name: 'waiting',
  async run(ctx) {
    return ctx.waitFor('go');
  },
});

const broken = { refund: true };
const refunded = defineWorkflow({
  name: 'refunded',
  compensations: {
    refund: async () => {
      if (broken.refund) throw new Error('refund service down');
    },
  },
  async run(ctx) {
    await ctx.step('pay', async () => 1, { compensate: { name: 'refund', args: null } });
    await ctx.step('ship', async () => {
      throw new Error('no stock');
    });
  },
});

describeEngines('workflow ops handler actions', (fx) => {
  it('cancels a run and retries its dead compensations through the ops API; a read-only handler refuses', async () => {
    const db = await fx.open();
    await using engine = await createWorkflowEngine({
      db,
      workflows: [one, waiting, refunded],
      logger: silent,
      pollIntervalMs: 20,
      minBackoffMs: 5,
      compensationMaxAttempts: 1,
    });
    const service = createService({
      name: 'ops-actions',
      version: '0',
      logger: silent,
      handleSignals: false,
      opsHost: '127.0.0.1',
    });
    const reader = createWorkflowReader(db);
    service.opsRoute('/workflows', workflowOpsHandler(reader, { token: 't', control: engine }));
    const readOnly = createService({
      name: 'ro',
      version: '0',
      logger: silent,
      handleSignals: false,
      opsHost: '127.0.0.1',
    });
    readOnly.opsRoute('/workflows', workflowOpsHandler(reader));
    await service.start();
    await readOnly.start();
    try {
      const base = `http://127.0.0.1:${service.opsAddress?.port}`;
      const post = (path: string, body?: string, token = 't') =>
        fetch(`${base}${path}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          ...(body === undefined ? {} : { body }),
        });
      type Answer = { run: { state: string; cancelReason: string | null }; reason?: string };
      const wait = await engine.start(waiting, {}, { id: 'wait-1' });
      await expect.poll(async () => (await reader.getRun('wait-1'))?.leaseOwner).toBeNull();
      expect((await post('/workflows/runs/wait-1/cancel', '{"reason":"x"}', 'wrong')).status).toBe(401);
      const cancelled = await post(
        '/workflows/runs/wait-1/cancel',
        JSON.stringify({ reason: 'operator said so' }),
      );
      expect(cancelled.status).toBe(200);
      expect(((await cancelled.json()) as Answer).run.cancelReason).toBe('operator said so');
      await wait.result().catch(() => undefined);
      expect((await reader.getRun('wait-1'))?.error?.reason).toBe('WORKFLOW_CANCELLED');
      // Again: idempotent, the run as it ended.
      const again = await post('/workflows/runs/wait-1/cancel');
      expect(((await again.json()) as Answer).run.state).toBe('compensated');

      await (await engine.start(one, {}, { id: 'done-1' })).result();
      const ended = await post('/workflows/runs/done-1/cancel', '{}');
      expect(ended.status).toBe(409);
      expect(((await ended.json()) as Answer).reason).toBe('WORKFLOW_WRONG_STATE');
      expect((await post('/workflows/runs/nope/cancel', '{}')).status).toBe(404);
      const bad = await post('/workflows/runs/done-1/cancel', '{reason');
      expect([bad.status, ((await bad.json()) as Answer).reason]).toEqual([400, 'WORKFLOW_BAD_REASON']);
      expect((await post('/workflows/runs/done-1/cancel', '{"reason":7}')).status).toBe(400);
      expect((await post('/workflows/runs/done-1/retry-compensations')).status).toBe(409);
      expect(
        (await fetch(`${base}/workflows/runs/done-1/cancel`, { headers: { authorization: 'Bearer t' } }))
          .status,
      ).toBe(405);

      const failed = await engine.start(refunded, {}, { id: 'pay-1' });
      await failed.result().catch(() => undefined);
      expect((await reader.getRun('pay-1'))?.state).toBe('failed');
      broken.refund = false;
      const retried = await post('/workflows/runs/pay-1/retry-compensations');
      expect(retried.status).toBe(200);
      await expect.poll(async () => (await reader.getRun('pay-1'))?.state).toBe('compensated');

      const ro = await fetch(`http://127.0.0.1:${readOnly.opsAddress?.port}/workflows/runs/pay-1/cancel`, {
        method: 'POST',
      });
      expect(ro.status).toBe(405);
    } finally {
      broken.refund = true;
      await readOnly.stop();
      await service.stop();
    }
  });
});
