import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger } from '@refront/core';
import { afterEach, describe, expect, it } from 'vitest';
import { createConsole, type RefrontConsole } from './createConsole.js';
import { httpWorkflowSource, type WorkflowRunJournalView } from './workflows.js';

const logger = createLogger({ service: 'console-test', level: 'silent' });
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

const RUN: WorkflowRunJournalView = {
  id: 'run-1',
  workflow: 'close-billing-period',
  version: 1,
  state: 'completed',
  tenant: 'acme',
  traceId: '0af7651916cd43dd8448eb211c80319c',
  createdAt: '2026-12-07T10:00:00.000Z',
  updatedAt: '2026-12-07T10:00:01.000Z',
  leaseOwner: null,
  leaseUntil: null,
  stepCount: 1,
  deadCompensations: 0,
  error: null,
  input: {},
  output: { invoiceId: 'i-1' },
  steps: [
    {
      seq: 0,
      name: 'lock',
      startedAt: '2026-12-07T10:00:00.100Z',
      completedAt: '2026-12-07T10:00:00.150Z',
      durationMs: 50,
      attempts: 1,
      output: null,
    },
  ],
  compensations: [],
};

/**
 * A service's ops endpoint as `workflowOpsHandler` of @refront/workflow serves it (the console
 * package does not depend on that one): the token, the two routes, the query it got.
 */
async function opsEndpoint(token: string): Promise<{ url: string; queries: string[] }> {
  const queries: string[] = [];
  const server: Server = createServer((req, res) => {
    const send = (status: number, body: unknown) =>
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'token' });
    const url = new URL(req.url ?? '/', 'http://x');
    queries.push(url.search);
    if (url.pathname === '/workflows/runs') return send(200, { runs: [RUN] });
    if (url.pathname === '/workflows/runs/run-1') return send(200, { run: RUN });
    return send(404, { error: 'not found' });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closers.push(() => new Promise((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries };
}

async function started(options: Parameters<typeof createConsole>[0]): Promise<RefrontConsole> {
  const c = createConsole({ enabled: true, development: true, port: 0, logger, ...options });
  closers.push(() => c.close());
  await c.start();
  return c;
}

describe('the Workflows API', () => {
  it("lists each service's runs through its source and shows one run; a failing source does not hide the others", async () => {
    const ops = await opsEndpoint('s3cret');
    const c = await started({
      workflows: async () => ({
        invoicing: httpWorkflowSource({ url: ops.url, token: 's3cret' }),
        refused: httpWorkflowSource({ url: ops.url, token: 'wrong' }),
      }),
    });
    const list = (await (
      await fetch(`${c.url}/api/workflows?workflow=close-billing-period&state=completed,failed&since=5`)
    ).json()) as { services: unknown[] };
    expect(list.services).toEqual([
      { service: 'invoicing', runs: [RUN] },
      { service: 'refused', runs: [], error: expect.stringContaining('HTTP 401') },
    ]);
    expect(ops.queries[0]).toBe('?workflow=close-billing-period&state=completed%2Cfailed&since=5&limit=50');

    const one = await fetch(`${c.url}/api/workflows/invoicing/runs/run-1`);
    expect(await one.json()).toEqual({
      service: 'invoicing',
      run: RUN,
      actions: { cancel: true, retryCompensations: true },
    });
    const missing = await fetch(`${c.url}/api/workflows/invoicing/runs/run-2`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { reason: string } }).error.reason).toBe(
      'CONSOLE_RUN_NOT_FOUND',
    );
    const unknown = await fetch(`${c.url}/api/workflows/tickets/runs/run-1`);
    expect(((await unknown.json()) as { error: { reason: string } }).error.reason).toBe(
      'CONSOLE_NO_WORKFLOWS',
    );
  });

  it('answers CONSOLE_SOURCE_FAILED when the ops endpoint does not answer', async () => {
    const source = httpWorkflowSource({ url: 'http://127.0.0.1:1', timeoutMs: 1_000 });
    await expect(source.getRun('x')).rejects.toMatchObject({ reason: 'CONSOLE_SOURCE_FAILED' });
  });
});
