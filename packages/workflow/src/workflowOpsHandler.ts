import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRefrontError } from '@refront/core';
import type { OpsHandler } from '@refront/core/transport';
import { WorkflowErrors } from './errors.js';
import type { WorkflowControl } from './WorkflowControl.js';
import type { RunState } from './WorkflowEngine.js';
import type { RunFilter, WorkflowReader } from './WorkflowReader.js';

/** Options of {@link workflowOpsHandler}. */
export interface WorkflowOpsOptions {
  /** The bearer token every request must carry (the console's). Without one the runs are open to anyone who reaches the ops port. */
  readonly token?: string | undefined;
  /**
   * Serves the operator actions (cancel, retry compensations) with this control: the service's
   * engine, or `createWorkflowControl(db)`. Without one the endpoint is read-only and answers
   * 405 to them. @default none
   */
  readonly control?: WorkflowControl;
}

/** The largest action body read, in bytes. */
const MAX_BODY = 16 * 1024;

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(`${JSON.stringify(body)}\n`);
}

function filterOf(q: URLSearchParams): RunFilter {
  const state = q.get('state');
  const since = q.get('since');
  const limit = q.get('limit');
  return {
    ...(q.get('workflow') ? { workflow: q.get('workflow') as string } : {}),
    ...(state ? { state: state.split(',') as RunState[] } : {}),
    ...(since ? { since: Number(since) } : {}),
    ...(limit ? { limit: Number(limit) } : {}),
  };
}

/** The cancel body's reason: `{ reason?: string }`, or an empty body. */
async function reasonOf(req: IncomingMessage): Promise<string | undefined> {
  let text = '';
  for await (const chunk of req) {
    text += String(chunk);
    if (text.length > MAX_BODY) throw WorkflowErrors.BAD_REASON(`body is larger than ${MAX_BODY} bytes`);
  }
  if (text.trim() === '') return undefined;
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw WorkflowErrors.BAD_REASON('body is not JSON');
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw WorkflowErrors.BAD_REASON('body is not a JSON object');
  return (body as { reason?: string }).reason;
}

const ROUTES = [
  'GET /workflows/runs',
  'GET /workflows/runs/<id>',
  'POST /workflows/runs/<id>/cancel',
  'POST /workflows/runs/<id>/retry-compensations',
];

/**
 * The workflow runs of a service as JSON on its ops server, for a console in another process:
 * `GET /workflows/runs?workflow=&state=a,b&since=<ms>&limit=` answers `{ runs }` and
 * `GET /workflows/runs/<id>` answers `{ run }` (404 when there is none). With `control`, also the
 * operator actions, each answering the run after the request: `POST /workflows/runs/<id>/cancel`
 * (JSON body `{ "reason": "…" }`, optional) and `POST /workflows/runs/<id>/retry-compensations`.
 * Errors answer `{ error, status, reason }`: 404 `WORKFLOW_NOT_FOUND`, 409 `WORKFLOW_WRONG_STATE`,
 * 400 for a bad filter or body, 405 for an action without `control`. With `token`, a request
 * without `Authorization: Bearer <token>` gets 401.
 *
 * @example
 * service.opsRoute('/workflows', workflowOpsHandler(createWorkflowReader(db), {
 *   token: process.env.REFRONT_CONSOLE_TOKEN,
 *   control: createWorkflowControl(db),
 * }));
 */
export function workflowOpsHandler(reader: WorkflowReader, options: WorkflowOpsOptions = {}): OpsHandler {
  const token = options.token === '' ? undefined : options.token;
  const control = options.control;
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (token !== undefined) {
      const header = req.headers.authorization ?? '';
      if (!sameToken(header.startsWith('Bearer ') ? header.slice(7) : '', token))
        return send(res, 401, { error: 'the workflow runs need the console token' });
    }
    const url = new URL(req.url ?? '/', 'http://ops');
    const m = /^\/workflows\/runs(?:\/([^/]+)(?:\/(cancel|retry-compensations))?)?\/?$/.exec(url.pathname);
    if (!m) return send(res, 404, { error: 'not found', routes: ROUTES });
    const [, id, action] = m;
    const post = req.method === 'POST';
    if (post !== (action !== undefined))
      return send(res, 405, { error: `${req.method} is not served here`, routes: ROUTES });
    try {
      if (id === undefined)
        return send(res, 200, { runs: await reader.listRuns(filterOf(url.searchParams)) });
      const runId = decodeURIComponent(id);
      if (action !== undefined) {
        if (!control) return send(res, 405, { error: 'this workflow endpoint is read-only (no control)' });
        if (action === 'cancel') await control.cancel(runId, await reasonOf(req));
        else await control.retryCompensations(runId);
      }
      const run = await reader.getRun(runId);
      return run ? send(res, 200, { run }) : send(res, 404, { error: `no run ${runId}` });
    } catch (e: unknown) {
      if (isRefrontError(e) && e.httpStatus < 500)
        return send(res, e.httpStatus, { error: e.message, status: e.status, reason: e.reason });
      throw e;
    }
  };
}
