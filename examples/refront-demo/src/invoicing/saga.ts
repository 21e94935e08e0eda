import { randomUUID } from 'node:crypto';
import { type Client, isRefrontError, type Logger, RefrontError, toRefrontError } from '@refront/core';
import type { Database, Outbox, Transaction } from '@refront/data';
import { type Invoice, InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import type { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { invoiceStore as store } from './store.js';

/** What the close-a-billing-period saga needs. */
export interface SagaDeps {
  readonly db: Database;
  readonly outbox: Outbox;
  readonly tickets: Client<typeof TicketsServiceDefinition>;
  readonly logger: Logger;
}

/** Runs in the transaction that issues the invoice, after its writes (stores the call's response). */
export type OnIssued = (tx: Transaction, runId: string, invoice: Invoice) => Promise<void>;

/**
 * Closes a customer's billing period as a saga whose state is stored after every step:
 *
 * 1. **lock** the period's unbilled entries to a new run (one transaction; none → FAILED_PRECONDITION,
 *    and no run is recorded);
 * 2. **price** them at the customer's hourly rate, read from the tickets service;
 * 3. **issue** the invoice and **publish** InvoiceIssued (one transaction: the event goes to the
 *    outbox with the invoice, so it is published exactly when the invoice exists).
 *
 * When step 2 or 3 fails, **compensate**: the entries are unlocked (billable again), the run ends
 * COMPENSATED with the reason, and the caller gets the step's error with the run id in its
 * metadata. Entries are locked with a conditional update, so two concurrent runs never bill one
 * entry twice. `onIssued` runs in the issue transaction, so what it writes (the call's stored
 * response) commits exactly with the invoice.
 */
export async function closeBillingPeriod(
  deps: SagaDeps,
  tenant: string,
  customerId: string,
  period: { name: string; from: string; until: string },
  onIssued?: OnIssued,
): Promise<{ runId: string; invoice: Invoice }> {
  const { db } = deps;
  const runId = randomUUID();
  const locked = await db.transaction(async (tx) => {
    await tx.query(
      `insert into billing_runs (id, tenant_id, customer_id, period, state) values ($1, $2, $3, $4, 'started')`,
      [runId, tenant, customerId, period.name],
    );
    const { rowCount } = await tx.query(
      `update billable_entries set billing_run_id = $1
       where tenant_id = $2 and customer_id = $3 and work_date >= $4::date and work_date < $5::date
         and billing_run_id is null and invoice_id is null`,
      [runId, tenant, customerId, period.from, period.until],
    );
    if (rowCount === 0) {
      throw new RefrontError(
        'FAILED_PRECONDITION',
        'INVOICING_NOTHING_TO_BILL',
        `customer ${customerId} has no unbilled time in ${period.name}`,
        { details: { metadata: { customerId, period: period.name } }, retryable: false },
      );
    }
    await store.setState(tx, runId, 'locked');
    await store.step(tx, runId, 'lock', 'done', `${rowCount} entries`);
    return rowCount;
  });

  let step = 'price';
  try {
    const { customer } = await deps.tickets.getCustomer({ id: customerId });
    if (!customer)
      throw new RefrontError('INTERNAL', 'INVOICING_NO_CUSTOMER', 'tickets answered without a customer');
    await db.transaction(async (tx) => {
      await tx.query(
        `update billable_entries set rate_minor = $2, amount_minor = (minutes::bigint * $2::bigint + 30) / 60
         where billing_run_id = $1`,
        [runId, customer.hourlyRateMinor],
      );
      await store.setState(tx, runId, 'priced');
      await store.step(
        tx,
        runId,
        'price',
        'done',
        `${locked} entries at ${customer.hourlyRateMinor} ${customer.currency}/h`,
      );
    });

    step = 'issue';
    const invoice = await db.transaction(async (tx) => {
      const seq = await tx.query<{ last: number }>(
        `insert into invoice_numbers (tenant_id, last) values ($1, 1)
         on conflict (tenant_id) do update set last = invoice_numbers.last + 1 returning last`,
        [tenant],
      );
      const number = `INV-${String(seq.rows[0]?.last ?? 0).padStart(6, '0')}`;
      const invoiceId = randomUUID();
      const totals = await tx.query<{ total_minor: number; total_minutes: number; lines: number }>(
        `update billable_entries set invoice_id = $2 where billing_run_id = $1
         returning amount_minor as total_minor, minutes as total_minutes, 1 as lines`,
        [runId, invoiceId],
      );
      const totalMinor = totals.rows.reduce((s, r) => s + Number(r.total_minor), 0);
      const totalMinutes = totals.rows.reduce((s, r) => s + Number(r.total_minutes), 0);
      await tx.query(
        `insert into invoices (id, tenant_id, number, customer_id, period, currency, total_minor, total_minutes, billing_run_id)
         values ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
        [
          invoiceId,
          tenant,
          number,
          customerId,
          period.name,
          customer.currency,
          totalMinor,
          totalMinutes,
          runId,
        ],
      );
      await store.setState(tx, runId, 'issued', { invoiceId });
      await store.step(tx, runId, 'issue', 'done', number);
      await deps.outbox.add(
        tx,
        InvoiceIssued,
        {
          invoiceId,
          number,
          customerId,
          period: period.name,
          currency: customer.currency,
          totalMinor,
          totalMinutes,
          lineCount: totals.rows.length,
        },
        { key: customerId },
      );
      await store.step(tx, runId, 'publish', 'done', 'InvoiceIssued queued in the outbox');
      const issued = await store.invoice(tx, tenant, invoiceId);
      if (issued && onIssued) await onIssued(tx, runId, issued);
      return issued;
    });
    if (!invoice)
      throw new RefrontError('INTERNAL', 'INVOICING_LOST_INVOICE', 'the issued invoice was not found');
    return { runId, invoice };
  } catch (error) {
    await compensate(deps, runId, step, error);
    const e = toRefrontError(error);
    throw new RefrontError(
      e.status,
      e.reason,
      `billing run ${runId} failed at ${step} and was undone: ${e.message}`,
      {
        details: { ...e.details, metadata: { ...e.details.metadata, billingRunId: runId, step } },
        retryable: e.retryable,
        cause: error,
      },
    );
  }
}

/** Undoes a run's lock and pricing: its entries become billable again. Idempotent. */
export async function compensate(
  deps: SagaDeps,
  runId: string,
  failedStep: string,
  error: unknown,
): Promise<void> {
  const message = isRefrontError(error) ? `${error.status} ${error.reason}: ${error.message}` : String(error);
  await deps.db.transaction(async (tx) => {
    await store.step(tx, runId, failedStep, 'failed', message);
    await tx.query(
      `update billable_entries set billing_run_id = null, rate_minor = null, amount_minor = null
       where billing_run_id = $1 and invoice_id is null`,
      [runId],
    );
    await store.setState(tx, runId, 'compensated', { reason: message });
    await store.step(tx, runId, 'compensate', 'done', 'entries unlocked');
  });
  deps.logger.warn({ runId, step: failedStep, err: message }, 'billing run compensated');
}

/**
 * Compensates runs left unfinished by a crash (still started, locked or priced after
 * `olderThanMs`). Called when the service starts.
 */
export async function recoverStaleRuns(deps: SagaDeps, olderThanMs: number): Promise<number> {
  const { rows } = await deps.db.query<{ id: string; state: string }>(
    `select id, state from billing_runs where state in ('started', 'locked', 'priced')
       and updated_at < now() - ($1::integer * interval '1 millisecond')`,
    [olderThanMs],
  );
  for (const r of rows) {
    await compensate(
      deps,
      r.id,
      r.state === 'priced' ? 'issue' : 'price',
      new Error('interrupted (process stopped)'),
    );
  }
  return rows.length;
}
