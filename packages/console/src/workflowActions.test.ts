/**
 * The Workflows API's actions against a real `@refront/workflow` engine on embedded PostgreSQL:
 * in the monolith's shape (a reader and a control on the service database) and in the distributed
 * one (`httpWorkflowSource` over the service's `workflowOpsHandler`). The demo has no workflow
 * that waits, so cancelling a waiting run is tested here.
 */
import { createLogger, createService } from '@refront/core';
import { createEmbeddedPostgres, type Database, type EmbeddedPostgres, openDatabase } from '@refront/data';
import {
  createWorkflowControl,
  createWorkflowEngine,
  createWorkflowReader,
  defineWorkflow,
  type WorkflowEngine,
  workflowMigrations,
  workflowOpsHandler,
} from '@refront/workflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createConsole, type RefrontConsole } from './createConsole.js';
import { httpWorkflowSource } from './workflows.js';

const logger = createLogger({ service: 'console-test', level: 'silent' });
const released: string[] = [];
const provider = { down: true };

/** Reserves, then waits for an approval; released when it is undone. */
const approval = defineWorkflow({
  name: 'approval',
  compensations: {
    release: async (c, _: null) => {
      released.push(c.runId);
    },
  },
  async run(ctx) {
    await ctx.step('reserve', async () => 'held', { compensate: { name: 'release', args: null } });
    return ctx.waitFor('approved');
  },
});

/** Pays, then fails to ship; its refund fails while the provider is down. */
const refund = defineWorkflow({
  name: 'refund',
  compensations: {
    refund: async () => {
      if (provider.down) throw new Error('payment provider unreachable');
    },
  },
  async run(ctx) {
    await ctx.step('pay', async () => 1, { compensate: { name: 'refund', args: null } });
    await ctx.step('ship', async () => {
      throw new Error('out of stock');
    });
  },
});

let embedded: EmbeddedPostgres;
let db: Database;
let engine: WorkflowEngine;
const closers: (() => Promise<void>)[] = [];

beforeAll(async () => {
  embedded = await createEmbeddedPostgres();
  db = await openDatabase({ schema: 'shop', embedded, migrations: workflowMigrations, logger });
  engine = await createWorkflowEngine({
    db,
    workflows: [approval, refund],
    logger,
    pollIntervalMs: 20,
    minBackoffMs: 5,
    compensationMaxAttempts: 2,
  });
});
afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
  await engine?.close();
  await db?.close();
  await embedded?.close();
});

async function started(options: Parameters<typeof createConsole>[0]): Promise<RefrontConsole> {
  const c = createConsole({ enabled: true, development: true, port: 0, logger, ...options });
  closers.push(() => c.close());
  await c.start();
  return c;
}

const post = (url: string, body?: string) =>
  fetch(url, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body }),
  });

type RunAnswer = {
  run: { state: string; cancelReason: string | null; error: { reason: string } | null };
  actions: { cancel: boolean; retryCompensations: boolean };
};
type ErrorAnswer = { error: { reason: string } };

describe('the Workflows API actions on a real engine', () => {
  it('cancels a run waiting for a signal (monolith: a reader and a control on the database)', async () => {
    const c = await started({
      workflows: { shop: { ...createWorkflowReader(db), ...createWorkflowControl(db) } },
    });
    const run = await engine.start(approval, {});
    await expect.poll(async () => (await createWorkflowReader(db).getRun(run.id))?.leaseOwner).toBeNull();
    const shown = (await (await fetch(`${c.url}/api/workflows/shop/runs/${run.id}`)).json()) as RunAnswer;
    expect([shown.run.state, shown.actions]).toEqual(['running', { cancel: true, retryCompensations: true }]);

    const cancelled = await post(
      `${c.url}/api/workflows/shop/runs/${run.id}/cancel`,
      '{"reason":"the buyer withdrew"}',
    );
    expect(cancelled.status).toBe(200);
    expect(((await cancelled.json()) as RunAnswer).run.cancelReason).toBe('the buyer withdrew');
    // The engine's sweep (not the console's) finds the request and compensates.
    await run.result().catch(() => undefined);
    const after = (await (await fetch(`${c.url}/api/workflows/shop/runs/${run.id}`)).json()) as RunAnswer;
    expect([after.run.state, after.run.error?.reason]).toEqual(['compensated', 'WORKFLOW_CANCELLED']);
    expect(released.filter((id) => id === run.id)).toHaveLength(1);

    const again = await post(`${c.url}/api/workflows/shop/runs/${run.id}/retry-compensations`);
    expect([again.status, ((await again.json()) as ErrorAnswer).error.reason]).toEqual([
      409,
      'WORKFLOW_WRONG_STATE',
    ]);
    const bad = await post(`${c.url}/api/workflows/shop/runs/${run.id}/cancel`, '{"reason":');
    expect([bad.status, ((await bad.json()) as ErrorAnswer).error.reason]).toEqual([
      400,
      'CONSOLE_BAD_REQUEST',
    ]);
  });

  it('retries dead compensations over HTTP (distributed: httpWorkflowSource over the ops endpoint); a read-only source has no actions', async () => {
    const service = createService({
      name: 'shop',
      version: '0',
      logger,
      handleSignals: false,
      opsHost: '127.0.0.1',
    });
    const reader = createWorkflowReader(db);
    service.opsRoute(
      '/workflows',
      workflowOpsHandler(reader, { token: 'tok', control: createWorkflowControl(db) }),
    );
    await service.start();
    closers.push(() => service.stop());
    const url = `http://127.0.0.1:${service.opsAddress?.port}`;
    const c = await started({
      workflows: { shop: httpWorkflowSource({ url, token: 'tok' }), reads: reader },
    });
    const run = await engine.start(refund, {});
    await run.result().catch(() => undefined);
    expect((await reader.getRun(run.id))?.state).toBe('failed');

    provider.down = false;
    const retried = await post(`${c.url}/api/workflows/shop/runs/${run.id}/retry-compensations`);
    expect(retried.status).toBe(200);
    // The run as the request left it, or already compensated by the engine's 20 ms sweep.
    expect(['compensating', 'compensated']).toContain(((await retried.json()) as RunAnswer).run.state);
    await expect.poll(async () => (await reader.getRun(run.id))?.state).toBe('compensated');
    const twice = await post(`${c.url}/api/workflows/shop/runs/${run.id}/retry-compensations`);
    expect([twice.status, ((await twice.json()) as ErrorAnswer).error.reason]).toEqual([
      409,
      'WORKFLOW_WRONG_STATE',
    ]);
    const missing = await post(`${c.url}/api/workflows/shop/runs/nope/cancel`, '{}');
    expect([missing.status, ((await missing.json()) as ErrorAnswer).error.reason]).toEqual([
      404,
      'WORKFLOW_NOT_FOUND',
    ]);

    const readOnly = await post(`${c.url}/api/workflows/reads/runs/${run.id}/cancel`, '{}');
    expect([readOnly.status, ((await readOnly.json()) as ErrorAnswer).error.reason]).toEqual([
      409,
      'CONSOLE_READ_ONLY_WORKFLOWS',
    ]);
    const shown = (await (await fetch(`${c.url}/api/workflows/reads/runs/${run.id}`)).json()) as RunAnswer;
    expect(shown.actions).toEqual({ cancel: false, retryCompensations: false });
  });
});
