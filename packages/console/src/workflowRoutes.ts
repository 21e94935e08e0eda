import { toRefrontError } from '@refront/core';
import type { FastifyInstance } from 'fastify';
import { ConsoleErrors } from './consoleErrors.js';
import type { WorkflowRunState, WorkflowSource } from './workflows.js';

/**
 * The workflow sources of a console, by service name, or a function that says which at each look
 * (a distributed console resolves each service's ops endpoint through discovery).
 */
export type WorkflowSources =
  | Readonly<Record<string, WorkflowSource>>
  | (() => Readonly<Record<string, WorkflowSource>> | Promise<Readonly<Record<string, WorkflowSource>>>);

/**
 * The Workflows API: `GET /api/workflows` (each service's recent runs, filtered by `workflow`,
 * `state` (comma-separated), `since` (ms since the epoch), `service`) and
 * `GET /api/workflows/:service/runs/:runId` (one run with its journal).
 */
export function registerWorkflowRoutes(app: FastifyInstance, sources: WorkflowSources | undefined): void {
  const all = async (): Promise<Readonly<Record<string, WorkflowSource>>> =>
    (typeof sources === 'function' ? await sources() : sources) ?? {};

  app.get('/api/workflows', async (request) => {
    const q = request.query as Record<string, string | undefined>;
    const filter = {
      ...(q.workflow ? { workflow: q.workflow } : {}),
      ...(q.state ? { state: q.state.split(',') as WorkflowRunState[] } : {}),
      ...(q.since ? { since: Number(q.since) } : {}),
      limit: q.limit ? Math.min(500, Math.max(1, Number(q.limit) || 50)) : 50,
    };
    const entries = Object.entries(await all()).filter(([service]) => !q.service || service === q.service);
    return {
      services: await Promise.all(
        entries.map(async ([service, source]) => {
          try {
            return { service, runs: await source.listRuns(filter) };
          } catch (e: unknown) {
            // One service down must not hide the others' runs.
            return { service, runs: [], error: toRefrontError(e).message };
          }
        }),
      ),
    };
  });

  app.get('/api/workflows/:service/runs/:runId', async (request) => {
    const { service, runId } = request.params as { service: string; runId: string };
    const source = (await all())[service];
    if (!source) throw ConsoleErrors.NO_WORKFLOWS(service);
    const run = await source.getRun(runId);
    if (!run) throw ConsoleErrors.RUN_NOT_FOUND(service, runId);
    return { service, run };
  });
}
