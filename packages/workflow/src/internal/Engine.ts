import { randomUUID } from 'node:crypto';
import {
  CoreErrors,
  createLogger,
  currentContext,
  type Logger,
  RefrontError,
  type Status,
} from '@refront/core';
import { formatTraceparent, invalidOption, sleep } from '@refront/core/transport';
import type { Database } from '@refront/data';
import type { Workflow } from '../defineWorkflow.js';
import { WorkflowErrors } from '../errors.js';
import type {
  RunState,
  RunStatus,
  WorkflowEngine,
  WorkflowEngineOptions,
  WorkflowRun,
} from '../WorkflowEngine.js';
import { requestCancel, retryDeadCompensations } from './actions.js';
import type { CompensateEnv } from './compensateRun.js';
import {
  cancelOf,
  type ExecutionOutcome,
  executeRun,
  loadJournal,
  RUN_ROW_COLUMNS,
  type RunRow,
} from './executeRun.js';
import { workflowMetrics } from './metrics.js';
import { asJson, END_OF_JOURNAL, RunContext } from './RunContext.js';
import { RunLease, tablesOf } from './RunLease.js';
import { Interrupt } from './signals.js';

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw invalidOption(`${name} must be a number > 0`);
  return value;
}

/** The engine behind {@link WorkflowEngine}: sweeper, runners, results and signals. */
export class Engine implements WorkflowEngine {
  private readonly db: Database;
  private readonly tables;
  private readonly env: CompensateEnv;
  private readonly logger: Logger;
  // biome-ignore lint/suspicious/noExplicitAny: workflows of any input and output
  private readonly workflows = new Map<string, Workflow<any, any, any>>();
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly pollIntervalMs: number;
  private readonly maxConcurrentRuns: number;
  private readonly active = new Map<string, Promise<void>>();
  private readonly waiters = new Map<string, Set<() => void>>();
  private readonly closing = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<number> | undefined;
  private sweepAgain = false;
  private closed: Promise<void> | undefined;

  constructor(options: WorkflowEngineOptions) {
    if (!options.db || typeof options.db.transaction !== 'function')
      throw invalidOption('db must be a Database');
    this.db = options.db;
    this.logger = options.logger ?? createLogger({ service: 'workflow', level: 'silent' });
    this.tables = tablesOf(options.db.schema);
    for (const w of options.workflows ?? []) {
      const key = `${w.name}@${w.version}`;
      if (this.workflows.has(key)) throw invalidOption(`workflow ${key} is registered twice`);
      this.workflows.set(key, w);
    }
    this.owner = options.instanceId ?? randomUUID();
    this.leaseMs = positive('leaseMs', options.leaseMs ?? 30_000);
    this.pollIntervalMs = positive('pollIntervalMs', options.pollIntervalMs ?? 1_000);
    this.maxConcurrentRuns = positive('maxConcurrentRuns', options.maxConcurrentRuns ?? 32);
    const minBackoffMs = positive('minBackoffMs', options.minBackoffMs ?? 100);
    this.env = {
      db: this.db,
      tables: this.tables,
      workflow: '',
      metrics: options.metrics ? workflowMetrics(options.metrics) : undefined,
      faultPoint: options.faultPoint,
      maxAttempts: positive('stepMaxAttempts', options.stepMaxAttempts ?? 3),
      compensationMaxAttempts: positive('compensationMaxAttempts', options.compensationMaxAttempts ?? 10),
      minBackoffMs,
      maxBackoffMs: Math.max(minBackoffMs, positive('maxBackoffMs', options.maxBackoffMs ?? 30_000)),
      service: options.service ?? 'workflow',
      logger: this.logger,
    };
  }

  async check(): Promise<void> {
    const { rows } = await this.db.query<{ t: string | null }>(`select to_regclass($1)::text as t`, [
      this.tables.runs,
    ]);
    if (!rows[0]?.t) throw WorkflowErrors.NOT_MIGRATED(this.db.schema);
  }

  begin(): void {
    this.timer = setInterval(() => this.kick(), this.pollIntervalMs);
    this.kick();
  }

  async start<I, O>(
    // biome-ignore lint/suspicious/noExplicitAny: any compensations
    workflow: Workflow<I, O, any>,
    input: I,
    options: { readonly id?: string } = {},
  ): Promise<WorkflowRun<O>> {
    this.definition(workflow.name, workflow.version);
    if (this.closed) throw CoreErrors.CLOSED('the workflow engine');
    const id = options.id ?? randomUUID();
    const json = JSON.stringify(asJson(input));
    const own = this.active.size < this.maxConcurrentRuns;
    const t0 = Date.now();
    // The request context the run restores wherever it executes: its tenant, and its trace.
    const ctx = currentContext();
    const parent = ctx?.spanContext;
    const { rows } = await this.db.query<RunRow>(
      `insert into ${this.tables.runs} (id, workflow, version, input, state, lease_owner, lease_until, epoch, tenant, traceparent)
       values ($1, $2, $3, $4::jsonb, 'running', $5, case when $5::text is null then null
         else now() + $6::integer * interval '1 millisecond' end, 1, $7, $8)
       on conflict (id) do nothing
       returning ${RUN_ROW_COLUMNS}`,
      [
        id,
        workflow.name,
        workflow.version,
        json,
        own ? this.owner : null,
        this.leaseMs,
        ctx?.tenant ?? null,
        parent ? formatTraceparent(parent) : null,
      ],
    );
    const row = rows[0];
    if (row) {
      if (own) this.launch(row, t0, true);
      else this.kick();
    } else {
      const same = await this.db.query(
        `select 1 from ${this.tables.runs} where id = $1 and workflow = $2 and input = $3::jsonb`,
        [id, workflow.name, json],
      );
      if (same.rowCount === 0) throw WorkflowErrors.ID_CONFLICT(id, workflow.name);
    }
    return { id, result: (o) => this.result<O>(id, o) };
  }

  async result<O>(runId: string, options: { readonly signal?: AbortSignal } = {}): Promise<O> {
    for (;;) {
      options.signal?.throwIfAborted();
      const s = await this.status(runId);
      if (s.state === 'completed') return s.output as O;
      if (s.state === 'compensated' || s.state === 'failed') throw failedError(s);
      await this.waitForEnd(runId, options.signal);
    }
  }

  async status(runId: string): Promise<RunStatus> {
    const { rows } = await this.db.query<RunStatus>(
      `select id, workflow, version, state, output, error from ${this.tables.runs} where id = $1`,
      [runId],
    );
    const row = rows[0];
    if (!row) throw WorkflowErrors.NOT_FOUND(runId);
    return row;
  }

  async signal(runId: string, name: string, payload?: unknown): Promise<void> {
    const delivered = await this.db.transaction(async (tx) => {
      const { rows } = await tx.query<{ state: RunState }>(
        `select state from ${this.tables.runs} where id = $1 for update`,
        [runId],
      );
      const state = rows[0]?.state;
      if (!state) throw WorkflowErrors.NOT_FOUND(runId);
      if (state !== 'running') throw WorkflowErrors.NOT_WAITING(runId, state);
      await tx.query(
        `insert into ${this.tables.signals} (run_id, name, payload) values ($1, $2, $3::jsonb)`,
        [runId, name, JSON.stringify(asJson(payload))],
      );
      await tx.query(`update ${this.tables.runs} set wake_at = now() where id = $1 and wake_at > now()`, [
        runId,
      ]);
      return true;
    });
    if (delivered) this.kick();
  }

  async cancel(runId: string, reason?: string): Promise<void> {
    await requestCancel(this.env, runId, reason);
    this.kick();
  }

  async retryCompensations(runId: string): Promise<void> {
    await retryDeadCompensations(this.env, runId);
    this.kick();
  }

  async replay(runId: string): Promise<void> {
    const s = await this.status(runId);
    const workflow = this.definition(s.workflow, s.version);
    const { rows } = await this.db.query<{ input: unknown }>(
      `select input from ${this.tables.runs} where id = $1`,
      [runId],
    );
    const journal = await loadJournal(this.env, runId);
    const ctx = new RunContext(
      { ...this.env, workflow: s.workflow },
      runId,
      s.version,
      journal,
      undefined,
      undefined,
      undefined,
    );
    let output: unknown;
    try {
      output = await workflow.run(ctx, rows[0]?.input);
    } catch (e: unknown) {
      const endOfJournal =
        WorkflowErrors.NONDETERMINISM.is(e) && e.message.includes(`but the journal has ${END_OF_JOURNAL}`);
      if (s.state !== 'completed' && (endOfJournal || s.error !== null)) return;
      throw e;
    }
    if (s.state === 'completed' && JSON.stringify(asJson(output)) !== JSON.stringify(s.output))
      throw WorkflowErrors.NONDETERMINISM(
        runId,
        journal.size,
        JSON.stringify(s.output),
        JSON.stringify(asJson(output)),
      );
  }

  sweep(): Promise<number> {
    if (this.sweeping) {
      this.sweepAgain = true;
      return this.sweeping;
    }
    this.sweeping = this.claimDue().finally(() => {
      this.sweeping = undefined;
      if (this.sweepAgain && !this.closed) {
        this.sweepAgain = false;
        this.kick();
      }
    });
    return this.sweeping;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      clearInterval(this.timer);
      this.closing.abort(new Interrupt('closing'));
      await this.sweeping?.catch(() => undefined);
      await Promise.all(this.active.values());
    })();
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  // biome-ignore lint/suspicious/noExplicitAny: workflows of any input and output
  private definition(name: string, version: number): Workflow<any, any, any> {
    const w = this.workflows.get(`${name}@${version}`);
    if (!w) throw WorkflowErrors.UNKNOWN_WORKFLOW(name, version);
    return w;
  }

  private kick(): void {
    if (this.closed) return;
    this.sweep().catch((e: unknown) => this.logger.warn({ err: e }, 'workflow sweep failed'));
  }

  /** Claims due runs (lease free or expired, timer or signal due) with one compare-and-set statement. */
  private async claimDue(): Promise<number> {
    const room = this.maxConcurrentRuns - this.active.size;
    if (room <= 0 || this.closed) return 0;
    const t0 = Date.now();
    const { rows } = await this.db.query<RunRow>(
      `update ${this.tables.runs} set lease_owner = $1, lease_until = now() + $2::integer * interval '1 millisecond',
         epoch = epoch + 1, wake_at = null, updated_at = now()
       where id in (
         select id from ${this.tables.runs}
         where state in ('running', 'compensating') and (lease_until is null or lease_until < now())
           and (wake_at is null or wake_at <= now())
           and workflow || '@' || version in (select jsonb_array_elements_text($3::jsonb))
         order by updated_at limit $4 for update skip locked)
       returning ${RUN_ROW_COLUMNS}`,
      [this.owner, this.leaseMs, JSON.stringify([...this.workflows.keys()]), room],
    );
    for (const row of rows) this.launch(row, t0, false);
    if (rows.length === room) this.sweepAgain = true;
    return rows.length;
  }

  private launch(row: RunRow, claimedAt: number, fresh: boolean): void {
    const workflow = this.definition(row.workflow, row.version);
    const lease = new RunLease(
      this.db,
      this.tables,
      row.id,
      this.owner,
      row.epoch,
      this.leaseMs,
      this.closing.signal,
      claimedAt,
      cancelOf(row),
    );
    const env = { ...this.env, workflow: row.workflow };
    const done = executeRun(env, this.logger, workflow, row, lease, fresh)
      .then((outcome) => this.ended(row, outcome))
      .catch((e: unknown) => this.logger.error({ err: e, runId: row.id }, 'workflow runner failed'))
      .finally(() => {
        this.active.delete(row.id);
        this.kick();
      });
    this.active.set(row.id, done);
  }

  private ended(row: RunRow, outcome: ExecutionOutcome): void {
    if (outcome.kind === 'completed' || outcome.kind === 'compensated' || outcome.kind === 'failed')
      this.env.metrics?.runs.inc({ workflow: row.workflow, outcome: outcome.kind });
    if (outcome.kind === 'suspended' && outcome.wakeAt - Date.now() < 60_000) {
      const t = setTimeout(() => this.kick(), Math.max(0, outcome.wakeAt - Date.now()));
      t.unref();
    }
    for (const wake of this.waiters.get(row.id) ?? []) wake();
  }

  /** Resolves when this runner ends an execution of the run, or after a poll interval. */
  private async waitForEnd(runId: string, signal: AbortSignal | undefined): Promise<void> {
    let set = this.waiters.get(runId);
    if (!set) {
      set = new Set();
      this.waiters.set(runId, set);
    }
    const local = new AbortController();
    const wake = (): void => local.abort();
    set.add(wake);
    try {
      await sleep(this.pollIntervalMs, signal ? AbortSignal.any([signal, local.signal]) : local.signal);
    } catch {
      signal?.throwIfAborted();
    } finally {
      set.delete(wake);
      if (set.size === 0) this.waiters.delete(runId);
    }
  }
}

function failedError(s: RunStatus): RefrontError {
  const e = s.error;
  const cause = e ? new RefrontError(e.status as Status, e.reason, e.message) : undefined;
  return WorkflowErrors.FAILED.with(
    {
      cause,
      details: {
        metadata: {
          runId: s.id,
          state: s.state,
          ...(e?.step ? { step: e.step } : {}),
          ...(e ? { status: e.status, reason: e.reason } : {}),
        },
      },
    },
    s.id,
    s.state,
    e ? `${e.status} ${e.reason}: ${e.message}` : 'unknown error',
  );
}
