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

/** The reason of a cancel body (`{ "reason": "…" }`, raw JSON as the console's parser keeps it). */
function reasonOf(body: unknown): string | undefined {
  if (body === undefined || body === null) return undefined;
  const text = Buffer.isBuffer(body) ? body.toString('utf8') : JSON.stringify(body);
  if (text.trim() === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw ConsoleErrors.BAD_REQUEST('the body is not JSON');
  }
  const reason = (parsed as { reason?: unknown } | null)?.reason;
  if (reason !== undefined && typeof reason !== 'string')
    throw ConsoleErrors.BAD_REQUEST('reason must be a string');
  return reason;
}

/**
 * The Workflows API: `GET /api/workflows` (each service's recent runs, filtered by `workflow`,
 * `state` (comma-separated), `since` (ms since the epoch), `service`),
 * `GET /api/workflows/:service/runs/:runId` (one run with its journal), and the actions, each
 * answering the run after the request: `POST /api/workflows/:service/runs/:runId/cancel` (JSON
 * `{ reason }`) and `POST /api/workflows/:service/runs/:runId/retry-compensations`.
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

  const sourceOf = async (service: string): Promise<WorkflowSource> => {
    const source = (await all())[service];
    if (!source) throw ConsoleErrors.NO_WORKFLOWS(service);
    return source;
  };
  const runOf = async (service: string, source: WorkflowSource, runId: string) => {
    const run = await source.getRun(runId);
    if (!run) throw ConsoleErrors.RUN_NOT_FOUND(service, runId);
    // Which actions the page may offer: a read-only source has none.
    const actions = {
      cancel: source.cancel !== undefined,
      retryCompensations: source.retryCompensations !== undefined,
    };
    return { service, run, actions };
  };

  app.get('/api/workflows/:service/runs/:runId', async (request) => {
    const { service, runId } = request.params as { service: string; runId: string };
    return runOf(service, await sourceOf(service), runId);
  });

  app.post('/api/workflows/:service/runs/:runId/cancel', async (request) => {
    const { service, runId } = request.params as { service: string; runId: string };
    const reason = reasonOf(request.body);
    const source = await sourceOf(service);
    if (!source.cancel) throw ConsoleErrors.READ_ONLY_WORKFLOWS(service);
    await source.cancel(runId, reason);
    return runOf(service, source, runId);
  });

  app.post('/api/workflows/:service/runs/:runId/retry-compensations', async (request) => {
    const { service, runId } = request.params as { service: string; runId: string };
    const source = await sourceOf(service);
    if (!source.retryCompensations) throw ConsoleErrors.READ_ONLY_WORKFLOWS(service);
    await source.retryCompensations(runId);
    return runOf(service, source, runId);
  });
}
