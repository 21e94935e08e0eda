import type { PageRequest, Queryable } from '@refront/data';
import {
  type BillingRun,
  BillingRunState,
  type Invoice,
  type InvoiceLine,
  type SagaStep,
} from '../gen/refront/invoicing/v1/invoicing.js';

/** Saga states as stored. */
export type RunState = 'started' | 'locked' | 'priced' | 'issued' | 'compensated';

const STATES: Record<RunState, BillingRunState> = {
  started: BillingRunState.BILLING_RUN_STATE_STARTED,
  locked: BillingRunState.BILLING_RUN_STATE_LOCKED,
  priced: BillingRunState.BILLING_RUN_STATE_PRICED,
  issued: BillingRunState.BILLING_RUN_STATE_ISSUED,
  compensated: BillingRunState.BILLING_RUN_STATE_COMPENSATED,
};

interface RunRow {
  id: string;
  customer_id: string;
  period: string;
  state: RunState;
  invoice_id: string | null;
  failure_reason: string;
  created_at: Date;
  updated_at: Date;
}

interface InvoiceRow {
  seq: number;
  id: string;
  number: string;
  customer_id: string;
  period: string;
  currency: string;
  total_minor: number;
  total_minutes: number;
  billing_run_id: string;
  issued_at: Date;
}

interface LineRow {
  entry_id: string;
  ticket_id: string;
  work_date: string;
  minutes: number;
  description: string;
  rate_minor: number;
  amount_minor: number;
}

/** Queries of the invoicing service; each is scoped to a tenant. */
export const invoiceStore = {
  /**
   * Moves a run to `state` (from one of `from` when given); false when the run does not exist or
   * is not in `from` (compare-and-set: a compensated run is never issued, an issued one never undone).
   */
  async setState(
    db: Queryable,
    runId: string,
    state: RunState,
    extra: { invoiceId?: string; reason?: string } = {},
    from: readonly RunState[] = [],
  ): Promise<boolean> {
    const { rowCount } = await db.query(
      `update billing_runs set state = $2, invoice_id = coalesce($3, invoice_id),
         failure_reason = coalesce($4, failure_reason), updated_at = now()
       where id = $1 and (cardinality($5::text[]) = 0 or state = any($5::text[]))`,
      [runId, state, extra.invoiceId ?? null, extra.reason ?? null, from],
    );
    return rowCount > 0;
  },

  /** The tenant's next invoice number (INV-000001…), taken in the caller's transaction. */
  async nextInvoiceNumber(db: Queryable, tenant: string): Promise<string> {
    const seq = await db.query<{ last: number }>(
      `insert into invoice_numbers (tenant_id, last) values ($1, 1)
       on conflict (tenant_id) do update set last = invoice_numbers.last + 1 returning last`,
      [tenant],
    );
    return `INV-${String(seq.rows[0]?.last ?? 0).padStart(6, '0')}`;
  },

  async step(db: Queryable, runId: string, name: string, outcome: 'done' | 'failed', detail = '') {
    await db.query(
      `insert into billing_run_steps (run_id, n, name, outcome, detail)
       select $1, coalesce(max(n), 0) + 1, $2, $3, $4 from billing_run_steps where run_id = $1`,
      [runId, name, outcome, detail],
    );
  },

  async run(db: Queryable, tenant: string, id: string): Promise<BillingRun | undefined> {
    const { rows } = await db.query<RunRow>('select * from billing_runs where tenant_id = $1 and id = $2', [
      tenant,
      id,
    ]);
    const row = rows[0];
    if (!row) return undefined;
    const steps = await db.query<{ name: string; outcome: string; detail: string; at: Date }>(
      'select name, outcome, detail, at from billing_run_steps where run_id = $1 order by n',
      [id],
    );
    return toRun(row, steps.rows);
  },

  async invoice(db: Queryable, tenant: string, id: string): Promise<Invoice | undefined> {
    const { rows } = await db.query<InvoiceRow>('select * from invoices where tenant_id = $1 and id = $2', [
      tenant,
      id,
    ]);
    const row = rows[0];
    if (!row) return undefined;
    const lines = await db.query<LineRow>(
      `select entry_id, ticket_id, work_date::text as work_date, minutes, description, rate_minor, amount_minor
       from billable_entries where tenant_id = $1 and invoice_id = $2 order by work_date, entry_id`,
      [tenant, id],
    );
    return toInvoice(row, lines.rows);
  },

  async invoices(db: Queryable, tenant: string, customerId: string | undefined, page: PageRequest) {
    const { rows } = await db.query<InvoiceRow>(
      `select * from invoices where tenant_id = $1 and ($2::bigint is null or seq < $2)
         and ($3::text is null or customer_id = $3)
       order by seq desc limit $4`,
      [tenant, page.before ?? null, customerId ?? null, page.limit + 1],
    );
    return rows;
  },
};

/** Maps rows to the contract's BillingRun. */
function toRun(
  r: RunRow,
  steps: readonly { name: string; outcome: string; detail: string; at: Date }[],
): BillingRun {
  return {
    id: r.id,
    customerId: r.customer_id,
    period: r.period,
    state: STATES[r.state],
    invoiceId: r.invoice_id ?? '',
    failureReason: r.failure_reason,
    steps: steps.map((s): SagaStep => ({ name: s.name, outcome: s.outcome, detail: s.detail, at: s.at })),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

/** Maps rows to the contract's Invoice. */
export function toInvoice(r: InvoiceRow, lines: readonly LineRow[] = []): Invoice {
  return {
    id: r.id,
    number: r.number,
    customerId: r.customer_id,
    period: r.period,
    currency: r.currency,
    totalMinor: Number(r.total_minor),
    totalMinutes: r.total_minutes,
    billingRunId: r.billing_run_id,
    issuedAt: r.issued_at,
    lines: lines.map(
      (l): InvoiceLine => ({
        entryId: l.entry_id,
        ticketId: l.ticket_id,
        workDate: l.work_date,
        minutes: l.minutes,
        description: l.description,
        rateMinor: Number(l.rate_minor),
        amountMinor: Number(l.amount_minor),
      }),
    ),
  };
}
