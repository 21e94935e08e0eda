import { invalidOption } from '@refront/core/transport';
import type { Database } from '@refront/data';
import type { RunFailure } from './defineWorkflow.js';
import { tablesOf } from './internal/RunLease.js';
import type { RunState } from './WorkflowEngine.js';

/** Which runs {@link WorkflowReader.listRuns} returns. */
export interface RunFilter {
  /** Only runs of this workflow (any version). */
  readonly workflow?: string;
  /** Only runs in these states. */
  readonly state?: RunState | readonly RunState[];
  /** Only runs started at or after this time (a Date, or ms since the epoch). */
  readonly since?: Date | number;
  /** Most runs returned, newest first. @default 50 (at most 500) */
  readonly limit?: number;
}

/** A run as the list shows it. Times are ISO 8601 strings, so the view is the same over HTTP. */
export interface RunSummary {
  readonly id: string;
  readonly workflow: string;
  readonly version: number;
  readonly state: RunState;
  /** The tenant the run was started for. */
  readonly tenant: string | null;
  /** The trace of the request that started the run. */
  readonly traceId: string | null;
  readonly createdAt: string;
  readonly updatedAt: string;
  /** The runner holding the run's lease (executing it), and until when. */
  readonly leaseOwner: string | null;
  readonly leaseUntil: string | null;
  /** Journaled steps. */
  readonly stepCount: number;
  /** Compensations dead-lettered (given up after their attempts). */
  readonly deadCompensations: number;
  /** The failure that made it compensate. */
  readonly error: RunFailure | null;
  /** When an operator requested its cancel (see `WorkflowControl.cancel`), and why. */
  readonly cancelRequestedAt: string | null;
  readonly cancelReason: string | null;
}

/** One journaled step. */
export interface StepRecord {
  /** Position in the run (0-based). */
  readonly seq: number;
  readonly name: string;
  /** When its first attempt began (null for steps journaled before this was recorded). */
  readonly startedAt: string | null;
  readonly completedAt: string;
  readonly durationMs: number | null;
  /** Attempts it took in the runner that journaled it. */
  readonly attempts: number;
  /** What it returned (its journaled output). */
  readonly output: unknown;
}

/** One registered compensation. */
export interface CompensationRecord {
  readonly seq: number;
  /** The step it undoes. */
  readonly step: string;
  readonly name: string;
  readonly args: unknown;
  /** `pending` until it ran, `done`, or `dead` (dead-lettered with `lastError`). */
  readonly state: 'pending' | 'done' | 'dead';
  readonly attempts: number;
  readonly lastError: string | null;
}

/** A run with its journal. */
export interface RunJournal extends RunSummary {
  readonly input: unknown;
  readonly output: unknown;
  readonly steps: readonly StepRecord[];
  readonly compensations: readonly CompensationRecord[];
}

/** Reads the runs journaled in a service database: for consoles and operators, never for control. */
export interface WorkflowReader {
  /** Runs, newest first. @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a bad filter. */
  listRuns(filter?: RunFilter): Promise<readonly RunSummary[]>;
  /** One run with its steps and compensations, or undefined when there is none with that id. */
  getRun(runId: string): Promise<RunJournal | undefined>;
}

const STATES: ReadonlySet<string> = new Set([
  'running',
  'compensating',
  'completed',
  'compensated',
  'failed',
]);

interface SummaryRow {
  id: string;
  workflow: string;
  version: number;
  state: RunState;
  tenant: string | null;
  traceparent: string | null;
  created_at: Date | string;
  updated_at: Date | string;
  lease_owner: string | null;
  lease_until: Date | string | null;
  steps: number;
  dead: number;
  error: RunFailure | null;
  cancel_requested_at: Date | string | null;
  cancel_reason: string | null;
  input?: unknown;
  output?: unknown;
}

function iso(t: Date | string): string {
  return (t instanceof Date ? t : new Date(t)).toISOString();
}

function summaryOf(r: SummaryRow): RunSummary {
  return {
    id: r.id,
    workflow: r.workflow,
    version: r.version,
    state: r.state,
    tenant: r.tenant,
    traceId: r.traceparent?.split('-')[1] ?? null,
    createdAt: iso(r.created_at),
    updatedAt: iso(r.updated_at),
    leaseOwner: r.lease_owner,
    leaseUntil: r.lease_until === null ? null : iso(r.lease_until),
    stepCount: Number(r.steps),
    deadCompensations: Number(r.dead),
    error: r.error,
    cancelRequestedAt: r.cancel_requested_at === null ? null : iso(r.cancel_requested_at),
    cancelReason: r.cancel_reason,
  };
}

/** The states as a JSON array for the query, or null for any state. */
function statesOf(state: RunFilter['state']): string | null {
  if (state === undefined) return null;
  const states = typeof state === 'string' ? [state] : [...state];
  for (const s of states) if (!STATES.has(s)) throw invalidOption(`state ${s} is not a run state`);
  return JSON.stringify(states);
}

/**
 * Creates a reader of the workflow journal in `db` (opened with `workflowMigrations`): it needs no
 * engine, so a console or an ops endpoint can read the runs of every instance of a service.
 *
 * @example
 * const reader = createWorkflowReader(db);
 * const failed = await reader.listRuns({ state: ['compensated', 'failed'], since: Date.now() - 3_600_000 });
 * const journal = await reader.getRun(failed[0].id);
 */
export function createWorkflowReader(db: Database): WorkflowReader {
  const t = tablesOf(db.schema);
  const columns = `r.id, r.workflow, r.version, r.state, r.tenant, r.traceparent, r.created_at, r.updated_at,
    r.lease_owner, r.lease_until, r.error, r.cancel_requested_at, r.cancel_reason,
    (select count(*)::integer from ${t.steps} s where s.run_id = r.id) as steps,
    (select count(*)::integer from ${t.compensations} c where c.run_id = r.id and c.state = 'dead') as dead`;
  return {
    async listRuns(filter = {}) {
      const limit = filter.limit ?? 50;
      if (!Number.isInteger(limit) || limit < 1 || limit > 500)
        throw invalidOption('limit must be an integer from 1 to 500');
      const since = filter.since === undefined ? null : new Date(filter.since);
      if (since && Number.isNaN(since.getTime())) throw invalidOption('since must be a time');
      const { rows } = await db.query<SummaryRow>(
        `select ${columns} from ${t.runs} r
         where ($1::text is null or r.workflow = $1)
           and ($2::jsonb is null or r.state in (select jsonb_array_elements_text($2::jsonb)))
           and ($3::timestamptz is null or r.created_at >= $3)
         order by r.created_at desc, r.id limit $4`,
        [filter.workflow ?? null, statesOf(filter.state), since, limit],
      );
      return rows.map(summaryOf);
    },

    async getRun(runId) {
      const { rows } = await db.query<SummaryRow>(
        `select ${columns}, r.input, r.output from ${t.runs} r where r.id = $1`,
        [runId],
      );
      const row = rows[0];
      if (!row) return undefined;
      const [steps, compensations] = await Promise.all([
        db.query<StepRow>(
          `select seq, name, started_at, completed_at, attempts, output,
             (extract(epoch from completed_at - started_at) * 1000)::double precision as duration_ms
           from ${t.steps} where run_id = $1 order by seq`,
          [runId],
        ),
        db.query<CompensationRow>(
          `select seq, step, name, args, state, attempts, last_error
           from ${t.compensations} where run_id = $1 order by seq`,
          [runId],
        ),
      ]);
      return {
        ...summaryOf(row),
        input: row.input ?? null,
        output: row.output ?? null,
        steps: steps.rows.map((s) => ({
          seq: s.seq,
          name: s.name,
          startedAt: s.started_at === null ? null : iso(s.started_at),
          completedAt: iso(s.completed_at),
          durationMs: s.duration_ms === null ? null : Math.max(0, Math.round(Number(s.duration_ms))),
          attempts: s.attempts,
          output: s.output,
        })),
        compensations: compensations.rows.map((c) => ({
          seq: c.seq,
          step: c.step,
          name: c.name,
          args: c.args,
          state: c.state,
          attempts: c.attempts,
          lastError: c.last_error,
        })),
      };
    },
  };
}

interface StepRow {
  seq: number;
  name: string;
  started_at: Date | string | null;
  completed_at: Date | string;
  attempts: number;
  output: unknown;
  duration_ms: number | string | null;
}

interface CompensationRow {
  seq: number;
  step: string;
  name: string;
  args: unknown;
  state: 'pending' | 'done' | 'dead';
  attempts: number;
  last_error: string | null;
}
