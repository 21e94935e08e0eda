import type { Database, Queryable } from '@refront/data';
import { Cancel, Interrupt } from './signals.js';

/** A run's cancel request, as a claim, a fence or a renewal returns it. */
export interface CancelColumns {
  cancel_requested: boolean;
  cancel_reason: string | null;
}

/** The columns of {@link CancelColumns}. */
export const CANCEL_COLUMNS = 'cancel_requested_at is not null as cancel_requested, cancel_reason';

/** The tables of one schema. */
export interface Tables {
  readonly runs: string;
  readonly steps: string;
  readonly compensations: string;
  readonly signals: string;
}

/** The journal tables of `schema`, quoted. */
export function tablesOf(schema: string): Tables {
  const q = `"${schema}"`;
  return {
    runs: `${q}.refront_workflow_runs`,
    steps: `${q}.refront_workflow_steps`,
    compensations: `${q}.refront_workflow_compensations`,
    signals: `${q}.refront_workflow_signals`,
  };
}

/**
 * One runner's lease on one run: `owner` + `epoch`, where the epoch grows at every claim. Every
 * journal write is fenced by it (compare-and-set on owner and epoch), so a runner whose lease was
 * taken over writes nothing more; a timer renews it while the run executes.
 */
export class RunLease {
  private readonly controller = new AbortController();
  /** Local time before which the lease certainly holds (renewals start before the server's now()). */
  private validUntil: number;
  private timer: NodeJS.Timeout | undefined;
  /**
   * The run's cancel request as last read (at the claim, then at every fence and renewal);
   * undefined while none is known.
   */
  private cancel: Cancel | undefined;
  /** Aborted (reason: an {@link Interrupt}) when the lease is lost or the engine closes. */
  readonly signal: AbortSignal;

  constructor(
    private readonly db: Database,
    private readonly tables: Tables,
    readonly runId: string,
    readonly owner: string,
    readonly epoch: number,
    private readonly leaseMs: number,
    closing: AbortSignal,
    claimedAt: number,
    cancel: Cancel | undefined,
  ) {
    this.validUntil = claimedAt + leaseMs;
    this.cancel = cancel;
    this.signal = AbortSignal.any([this.controller.signal, closing]);
  }

  /** Renews the lease every third of its length until {@link RunLease.stop}. */
  start(): void {
    this.timer = setInterval(() => void this.renew().catch(() => undefined), Math.max(1, this.leaseMs / 3));
  }

  stop(): void {
    clearInterval(this.timer);
  }

  /** Extends the lease; false (and the signal aborted) when another runner took the run. */
  async renew(): Promise<boolean> {
    if (this.signal.aborted) return false;
    const t0 = Date.now();
    const { rows } = await this.db.query<CancelColumns>(
      `update ${this.tables.runs} set lease_until = now() + $4::integer * interval '1 millisecond'
       where id = $1 and lease_owner = $2 and epoch = $3 returning ${CANCEL_COLUMNS}`,
      [this.runId, this.owner, this.epoch, this.leaseMs],
    );
    if (!rows[0]) {
      this.lose();
      return false;
    }
    this.read(rows[0]);
    this.validUntil = t0 + this.leaseMs;
    return true;
  }

  /** Throws an {@link Interrupt} unless the lease is held with at least half its length left. */
  async ensure(): Promise<void> {
    this.throwIfLost();
    if (this.validUntil - Date.now() >= this.leaseMs / 2) return;
    let renewed: boolean;
    try {
      renewed = await this.renew();
    } catch (e: unknown) {
      throw new Interrupt('database', e);
    }
    if (!renewed) this.throwIfLost();
  }

  /** Throws the abort reason (an Interrupt) once the lease is lost or the engine closes. */
  throwIfLost(): void {
    if (this.signal.aborted) throw this.signal.reason;
  }

  /** Throws a {@link Cancel} once a cancel request of the run has been read. */
  throwIfCancelled(): void {
    if (this.cancel) throw this.cancel;
  }

  /**
   * The step boundary's check: reads the run's cancel request now (one primary-key read) and
   * throws a {@link Cancel} when there is one; an Interrupt when the database fails.
   */
  async checkCancel(): Promise<void> {
    if (!this.cancel) {
      let row: CancelColumns | undefined;
      try {
        ({
          rows: [row],
        } = await this.db.query<CancelColumns>(
          `select ${CANCEL_COLUMNS} from ${this.tables.runs} where id = $1`,
          [this.runId],
        ));
      } catch (e: unknown) {
        throw new Interrupt('database', e);
      }
      if (row) this.read(row);
    }
    this.throwIfCancelled();
  }

  /**
   * The compare-and-set every journal write starts with, in the write's transaction: the run is
   * still ours (owner and epoch) and in `state`; extends the lease, and reads a cancel request.
   * Throws an Interrupt otherwise.
   */
  async fence(tx: Queryable, state: 'running' | 'compensating'): Promise<void> {
    const t0 = Date.now();
    const { rows } = await tx.query<CancelColumns>(
      `update ${this.tables.runs} set lease_until = now() + $5::integer * interval '1 millisecond', updated_at = now()
       where id = $1 and lease_owner = $2 and epoch = $3 and state = $4 returning ${CANCEL_COLUMNS}`,
      [this.runId, this.owner, this.epoch, state, this.leaseMs],
    );
    if (!rows[0]) {
      this.lose();
      throw new Interrupt('lease-lost');
    }
    this.read(rows[0]);
    this.validUntil = Math.max(this.validUntil, t0 + this.leaseMs);
  }

  private read(row: CancelColumns): void {
    if (row.cancel_requested && !this.cancel) this.cancel = new Cancel(row.cancel_reason);
  }

  private lose(): void {
    if (!this.controller.signal.aborted) this.controller.abort(new Interrupt('lease-lost'));
  }
}
