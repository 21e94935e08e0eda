import { RefrontError, type Status } from '@refront/core';
import { ConsoleErrors } from './consoleErrors.js';

/** A run's state, as `@refront/workflow` journals it. */
export type WorkflowRunState = 'running' | 'compensating' | 'completed' | 'compensated' | 'failed';

/** Which runs a {@link WorkflowSource} lists. */
export interface WorkflowRunFilter {
  readonly workflow?: string;
  readonly state?: WorkflowRunState | readonly WorkflowRunState[];
  /** Runs started at or after this time, in ms since the epoch. */
  readonly since?: number;
  /** @default 50 */
  readonly limit?: number;
}

/**
 * One run as the Workflows view lists it: the shape of `RunSummary` of `@refront/workflow`
 * (the console does not depend on that package; its reader fits this interface as it is).
 */
export interface WorkflowRunView {
  readonly id: string;
  readonly workflow: string;
  readonly version: number;
  readonly state: WorkflowRunState;
  readonly tenant: string | null;
  /** The trace of the request that started the run. */
  readonly traceId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly leaseOwner: string | null;
  readonly leaseUntil: string | null;
  readonly stepCount: number;
  readonly deadCompensations: number;
  readonly error: {
    readonly step: string | null;
    readonly status: string;
    readonly reason: string;
    readonly message: string;
  } | null;
  /** When an operator requested its cancel, and why (absent from sources that predate cancels). */
  readonly cancelRequestedAt?: string | null;
  readonly cancelReason?: string | null;
}

/** One run with its journal: steps with timing and attempts, compensations with their state. */
export interface WorkflowRunJournalView extends WorkflowRunView {
  readonly input: unknown;
  readonly output: unknown;
  readonly steps: readonly {
    readonly seq: number;
    readonly name: string;
    readonly startedAt: string | null;
    readonly completedAt: string;
    readonly durationMs: number | null;
    readonly attempts: number;
    readonly output: unknown;
  }[];
  readonly compensations: readonly {
    readonly seq: number;
    readonly step: string;
    readonly name: string;
    readonly args: unknown;
    readonly state: 'pending' | 'done' | 'dead';
    readonly attempts: number;
    readonly lastError: string | null;
  }[];
}

/**
 * Where the console reads one service's workflow runs: `createWorkflowReader(db)` of
 * `@refront/workflow` in the process that owns the database, or {@link httpWorkflowSource} for a
 * service's ops endpoint in another process.
 */
export interface WorkflowSource {
  /** Runs, newest first. */
  listRuns(filter?: WorkflowRunFilter): Promise<readonly WorkflowRunView[]>;
  /** One run with its journal, or undefined. */
  getRun(runId: string): Promise<WorkflowRunJournalView | undefined>;
  /**
   * Requests a running run's cancel (`WorkflowControl.cancel` of `@refront/workflow`); without it
   * the console offers no Cancel. @throws the source's typed error (not found, wrong state, bad reason).
   */
  cancel?(runId: string, reason?: string): Promise<void>;
  /**
   * Gives a failed run's dead compensations another round (`WorkflowControl.retryCompensations`);
   * without it the console offers no Retry. @throws the source's typed error.
   */
  retryCompensations?(runId: string): Promise<void>;
}

/** Options of {@link httpWorkflowSource}. */
export interface HttpWorkflowSourceOptions {
  /** The service's ops server (`http://10.0.0.5:9464`): the source reads `<url>/workflows/runs`. */
  readonly url: string;
  /** The bearer token the ops endpoint requires, if any. */
  readonly token?: string | undefined;
  /** Time one read may take, in ms. @default 3000 */
  readonly timeoutMs?: number;
}

/**
 * A workflow source read over HTTP from a service's ops endpoint (`workflowOpsHandler` of
 * `@refront/workflow`): what a standalone console uses for a service in another process. Its
 * actions POST to `<url>/workflows/runs/<id>/cancel` and `…/retry-compensations` (served when the
 * handler was given a `control`).
 *
 * @throws RefrontError UNAVAILABLE `CONSOLE_SOURCE_FAILED` (from its methods) when the endpoint
 *   cannot be read or refuses the token; from an action, the endpoint's own typed error
 *   (`WORKFLOW_NOT_FOUND`, `WORKFLOW_WRONG_STATE`, `WORKFLOW_BAD_REASON`), and FAILED_PRECONDITION
 *   `CONSOLE_READ_ONLY_WORKFLOWS` when the endpoint serves no actions.
 * @example
 * createConsole({ workflows: { invoicing: httpWorkflowSource({ url: 'http://invoicing:9464', token }) } });
 */
export function httpWorkflowSource(options: HttpWorkflowSourceOptions): WorkflowSource {
  const base = options.url.replace(/\/+$/, '');
  const call = async (path: string, body?: unknown): Promise<Response> => {
    try {
      return await fetch(`${base}${path}`, {
        ...(body === undefined ? {} : { method: 'POST', body: JSON.stringify(body) }),
        headers: {
          ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        signal: AbortSignal.timeout(options.timeoutMs ?? 3_000),
      });
    } catch (e: unknown) {
      throw ConsoleErrors.SOURCE_FAILED.with({ cause: e }, base, String(e));
    }
  };
  const get = async (path: string): Promise<Response> => {
    const res = await call(path);
    if (res.status !== 200 && res.status !== 404) {
      await res.arrayBuffer();
      throw ConsoleErrors.SOURCE_FAILED(base, `HTTP ${res.status}`);
    }
    return res;
  };
  /** POSTs an action; the endpoint's typed error (4xx with a reason) is raised as it is. */
  const act = async (runId: string, action: string, body: unknown): Promise<void> => {
    const res = await call(`/workflows/runs/${encodeURIComponent(runId)}/${action}`, body);
    const answer = (await res.json().catch(() => ({}))) as {
      error?: string;
      status?: string;
      reason?: string;
    };
    if (res.status === 200) return;
    if (res.status === 405) throw ConsoleErrors.READ_ONLY_WORKFLOWS(base);
    if (res.status < 500 && answer.reason && answer.status)
      throw new RefrontError(answer.status as Status, answer.reason, answer.error ?? answer.reason);
    throw ConsoleErrors.SOURCE_FAILED(base, `HTTP ${res.status}`);
  };
  return {
    cancel: (runId, reason) => act(runId, 'cancel', reason === undefined ? {} : { reason }),
    retryCompensations: (runId) => act(runId, 'retry-compensations', {}),
    async listRuns(filter = {}) {
      const q = new URLSearchParams();
      if (filter.workflow) q.set('workflow', filter.workflow);
      if (filter.state) q.set('state', [filter.state].flat().join(','));
      if (filter.since !== undefined) q.set('since', String(filter.since));
      if (filter.limit !== undefined) q.set('limit', String(filter.limit));
      const res = await get(`/workflows/runs?${q}`);
      if (res.status === 404) throw ConsoleErrors.SOURCE_FAILED(base, 'no /workflows endpoint');
      return ((await res.json()) as { runs: WorkflowRunView[] }).runs;
    },
    async getRun(runId) {
      const res = await get(`/workflows/runs/${encodeURIComponent(runId)}`);
      if (res.status === 404) {
        await res.arrayBuffer();
        return undefined;
      }
      return ((await res.json()) as { run: WorkflowRunJournalView }).run;
    },
  };
}
