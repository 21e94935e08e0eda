import { type SpanContext, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { createRequestContext, isRefrontError, type Logger, runWithContext, startSpan } from '@refront/core';
import { deriveIdempotencyKey, sleep } from '@refront/core/transport';
import { type Database, DataErrors, type Transaction } from '@refront/data';
import type {
  CompensationArgs,
  StepContext,
  StepOptions,
  WaitForOptions,
  WorkflowContext,
} from '../defineWorkflow.js';
import { WorkflowErrors } from '../errors.js';
import type { FaultPoint } from '../WorkflowEngine.js';
import type { WorkflowMetrics } from './metrics.js';
import type { RunLease, Tables } from './RunLease.js';
import { Interrupt, StepFailure, Suspend } from './signals.js';

/** One journaled step. */
export interface JournalEntry {
  readonly name: string;
  readonly output: unknown;
}

/** What a run context needs from its engine. */
export interface RunEnv {
  readonly db: Database;
  readonly tables: Tables;
  readonly workflow: string;
  readonly metrics: WorkflowMetrics | undefined;
  readonly faultPoint: ((point: FaultPoint) => void | Promise<void>) | undefined;
  readonly maxAttempts: number;
  readonly minBackoffMs: number;
  readonly maxBackoffMs: number;
  /** The service name of the request context a step runs in. */
  readonly service: string;
  /** The logger of that context. */
  readonly logger: Logger;
}

/** JSON round trip: what a replay will return, so the first run sees the same value. */
export function asJson(value: unknown): unknown {
  return value === undefined ? null : JSON.parse(JSON.stringify(value));
}

/** What a replay reports when the code makes more steps than the journal holds. */
export const END_OF_JOURNAL = '(end of journal)';

/** Whether retrying the step may succeed. */
function retryable(e: unknown): boolean {
  if (isRefrontError(e)) return e.retryable;
  const code = (e as { code?: unknown } | null)?.code;
  return code === '40001' || code === '40P01';
}

/**
 * The `ctx` of one execution of a run: serves journaled steps from the journal and executes the
 * rest, journaling each under the lease. With no lease it replays only (test mode): a step
 * missing from the journal, or named differently, is non-determinism.
 */
export class RunContext<A extends CompensationArgs> implements WorkflowContext<A> {
  private seq = 0;
  /** The step executed last (the one that failed, when the run fails). */
  lastStep: string | undefined;
  /** When the step being executed started, and its attempt: journaled with its output. */
  private current = { startedAt: new Date(0), attempt: 1 };

  constructor(
    private readonly env: RunEnv,
    readonly runId: string,
    readonly version: number,
    private readonly journal: Map<number, JournalEntry>,
    private readonly lease: RunLease | undefined,
    private readonly parent: SpanContext | undefined,
    /** The tenant the run was started for: every step runs in a request context with it. */
    private readonly tenant: string | undefined,
  ) {}

  step<T>(name: string, fn: (s: StepContext) => Promise<T>, options?: StepOptions<A>): Promise<T> {
    return this.execute(name, options, async (s) => {
      let out: T;
      try {
        out = await fn(s);
      } catch (e: unknown) {
        throw new StepFailure(e);
      }
      const output = asJson(out);
      await this.env.db.transaction((tx) => this.record(tx, s.step, output));
      return output as T;
    });
  }

  transaction<T>(
    name: string,
    fn: (tx: Transaction, s: StepContext) => Promise<T>,
    options?: StepOptions<A>,
  ): Promise<T> {
    return this.execute(name, options, (s) =>
      this.env.db.transaction(async (tx) => {
        let out: T;
        try {
          out = await fn(tx, s);
        } catch (e: unknown) {
          throw new StepFailure(e);
        }
        const output = asJson(out);
        await this.record(tx, s.step, output);
        return output as T;
      }),
    );
  }

  async sleep(ms: number): Promise<void> {
    const { wakeAt } = await this.step('sleep', async () => ({ wakeAt: Date.now() + Math.max(0, ms) }));
    if (this.lease && Date.now() < wakeAt) {
      // A sleeping run woken by a cancel request replays to here: stop instead of parking again.
      this.lease.throwIfCancelled();
      throw new Suspend(wakeAt, undefined);
    }
  }

  async waitFor<T = unknown>(name: string, options: WaitForOptions = {}): Promise<T> {
    const timeoutMs = options.timeoutMs;
    const deadline =
      timeoutMs === undefined
        ? Number.POSITIVE_INFINITY
        : (await this.step(`timer:${name}`, async () => ({ at: Date.now() + timeoutMs }))).at;
    const got = (await this.execute<{ payload?: unknown; timedOut?: true } | undefined>(
      `signal:${name}`,
      undefined,
      (s) =>
        this.env.db.transaction(async (tx) => {
          const { rows } = await tx.query<{ id: number; payload: unknown }>(
            `select id::integer as id, payload from ${this.env.tables.signals}
             where run_id = $1 and name = $2 and not consumed order by id limit 1 for update`,
            [this.runId, name],
          );
          const signal = rows[0];
          let output: { payload?: unknown; timedOut?: true };
          if (signal) {
            await tx.query(`update ${this.env.tables.signals} set consumed = true where id = $1`, [
              signal.id,
            ]);
            output = { payload: signal.payload };
          } else if (Date.now() >= deadline) output = { timedOut: true };
          else throw new Suspend(deadline, name);
          await this.record(tx, s.step, output);
          return output;
        }),
    )) ?? { timedOut: true };
    if (got.timedOut) throw WorkflowErrors.TIMEOUT(this.runId, name);
    return got.payload as T;
  }

  /** Journals a step's output in `tx`, fenced by the lease. */
  private async record(tx: Transaction, name: string, output: unknown): Promise<void> {
    if (!this.lease) throw new Error('unreachable: replay records nothing');
    await this.lease.fence(tx, 'running');
    await tx.query(
      // Both times from this process's clock: the database's now() is the transaction's start,
      // which for a transactional step is about when it began, not when it ended.
      `insert into ${this.env.tables.steps} (run_id, seq, name, output, started_at, attempts, completed_at)
       values ($1, $2, $3, $4::jsonb, $5, $6, $7)`,
      [
        this.runId,
        this.seq - 1,
        name,
        JSON.stringify(output),
        this.current.startedAt,
        this.current.attempt,
        new Date(),
      ],
    );
  }

  /** Serves a journaled step, or runs a new one under the lease with retries, span and metrics. */
  private async execute<T>(
    name: string,
    options: StepOptions<A> | undefined,
    attempt: (s: StepContext) => Promise<T>,
  ): Promise<T> {
    const seq = this.seq++;
    const done = this.journal.get(seq);
    if (done) {
      if (done.name !== name) throw WorkflowErrors.NONDETERMINISM(this.runId, seq, done.name, name);
      return done.output as T;
    }
    const lease = this.lease;
    if (!lease) throw WorkflowErrors.NONDETERMINISM(this.runId, seq, END_OF_JOURNAL, name);
    this.lastStep = name;
    await lease.ensure();
    await this.fault({ seq, step: name, when: 'before' });
    // The step boundary: a cancel request stops the run here, before the step starts.
    await lease.checkCancel();
    if (options?.compensate) await this.register(seq, name, options.compensate.name, options.compensate.args);
    const maxAttempts = options?.maxAttempts ?? this.env.maxAttempts;
    let backoffMs = this.env.minBackoffMs;
    const startedAt = new Date();
    for (let n = 1; ; n++) {
      this.current = { startedAt, attempt: n };
      const s: StepContext = {
        runId: this.runId,
        step: name,
        idempotencyKey: deriveIdempotencyKey(this.runId, name, seq),
        attempt: n,
        signal: lease.signal,
      };
      try {
        const out = await this.measured(name, () => attempt(s));
        await this.fault({ seq, step: name, when: 'after' });
        return out;
      } catch (e: unknown) {
        if (!(e instanceof StepFailure)) throw toInterrupt(e);
        if (DataErrors.UNAVAILABLE.is(e.error)) throw new Interrupt('database', e.error);
        if (lease.signal.aborted) throw lease.signal.reason;
        if (n >= maxAttempts || !retryable(e.error)) throw e;
        await sleep(backoffMs, lease.signal);
        backoffMs = Math.min(backoffMs * 2, this.env.maxBackoffMs);
        await lease.ensure();
        await lease.checkCancel();
      }
    }
  }

  /** Persists a compensation before its step runs (once: a resumed run finds it there). */
  private async register(seq: number, step: string, name: string, args: unknown): Promise<void> {
    const lease = this.lease;
    if (!lease) return;
    try {
      await this.env.db.transaction(async (tx) => {
        await lease.fence(tx, 'running');
        await tx.query(
          `insert into ${this.env.tables.compensations} (run_id, seq, step, name, args)
           values ($1, $2, $3, $4, $5::jsonb) on conflict (run_id, seq) do nothing`,
          [this.runId, seq, step, name, JSON.stringify(args ?? null)],
        );
      });
    } catch (e: unknown) {
      throw toInterrupt(e);
    }
  }

  private async measured<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const span = startSpan(`workflow.step ${this.env.workflow}/${name}`, {
      kind: SpanKind.INTERNAL,
      parent: this.parent,
      attributes: { 'workflow.run_id': this.runId, 'workflow.step': name },
    });
    const end = this.env.metrics?.steps.startTimer({ workflow: this.env.workflow, step: name });
    // The step's calls and events carry the run's tenant and nest under the step's span, in the
    // process that started the run and in one that resumed it alike.
    const ctx = createRequestContext({
      service: this.env.service,
      logger: this.env.logger,
      tenant: this.tenant,
      parent: span.spanContext(),
    });
    try {
      const out = await runWithContext(ctx, fn);
      end?.({ outcome: 'ok' });
      return out;
    } catch (e: unknown) {
      end?.({ outcome: 'error' });
      span.setStatus({ code: SpanStatusCode.ERROR });
      throw e;
    } finally {
      span.end();
    }
  }

  /** A fault point that throws interrupts this runner like a crash would (the run is released, not failed). */
  private async fault(point: Omit<FaultPoint, 'runId' | 'workflow'>): Promise<void> {
    try {
      await this.env.faultPoint?.({ runId: this.runId, workflow: this.env.workflow, ...point });
    } catch (e: unknown) {
      throw new Interrupt('database', e);
    }
  }
}

/** Anything but a step's own error or a suspension stops this runner (the run resumes elsewhere). */
function toInterrupt(e: unknown): unknown {
  if (e instanceof Interrupt || e instanceof Suspend || e instanceof StepFailure) return e;
  return new Interrupt('database', e);
}
