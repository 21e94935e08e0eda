import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isRefrontError } from '@refront/core';
import type { OpsHandler } from '@refront/core/transport';
import type { RunState } from './WorkflowEngine.js';
import type { RunFilter, WorkflowReader } from './WorkflowReader.js';

/** Options of {@link workflowOpsHandler}. */
export interface WorkflowOpsOptions {
  /** The bearer token every request must carry (the console's). Without one the runs are open to anyone who reaches the ops port. */
  readonly token?: string | undefined;
}

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

/**
 * The workflow runs of a service as JSON on its ops server, for a console in another process:
 * `GET /workflows/runs?workflow=&state=a,b&since=<ms>&limit=` answers `{ runs }` and
 * `GET /workflows/runs/<id>` answers `{ run }` (404 when there is none). With `token`, a request
 * without `Authorization: Bearer <token>` gets 401.
 *
 * @example
 * service.opsRoute('/workflows', workflowOpsHandler(createWorkflowReader(db), { token: process.env.REFRONT_CONSOLE_TOKEN }));
 */
export function workflowOpsHandler(reader: WorkflowReader, options: WorkflowOpsOptions = {}): OpsHandler {
  const token = options.token === '' ? undefined : options.token;
  return async (req: IncomingMessage, res: ServerResponse) => {
    if (token !== undefined) {
      const header = req.headers.authorization ?? '';
      if (!sameToken(header.startsWith('Bearer ') ? header.slice(7) : '', token))
        return send(res, 401, { error: 'the workflow runs need the console token' });
    }
    const url = new URL(req.url ?? '/', 'http://ops');
    const m = /^\/workflows\/runs(?:\/([^/]+))?\/?$/.exec(url.pathname);
    if (!m)
      return send(res, 404, { error: 'not found', routes: ['/workflows/runs', '/workflows/runs/<id>'] });
    try {
      if (m[1] === undefined)
        return send(res, 200, { runs: await reader.listRuns(filterOf(url.searchParams)) });
      const run = await reader.getRun(decodeURIComponent(m[1]));
      return run ? send(res, 200, { run }) : send(res, 404, { error: `no run ${m[1]}` });
    } catch (e: unknown) {
      if (isRefrontError(e) && e.status === 'INVALID_ARGUMENT') return send(res, 400, { error: e.message });
      throw e;
    }
  };
}
