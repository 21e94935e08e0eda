import { createHash, randomUUID } from 'node:crypto';
import { type Client, RefrontError } from '@refront/core';
import type { Outbox } from '@refront/data';
import { defineWorkflow, type RunFailure } from '@refront/workflow';
import { InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import type { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { invoiceStore as store } from './store.js';

/** What the close-a-billing-period saga needs. */
export interface SagaDeps {
  readonly outbox: Outbox;
  readonly tickets: Client<typeof TicketsServiceDefinition>;
}

/** The saga's input: one customer's billing period. */
export interface CloseInput {
  readonly tenant: string;
  readonly customerId: string;
  readonly period: { readonly name: string; readonly from: string; readonly until: string };
}

/**
 * The billing run id of a close called with `idempotencyKey` (a UUID made from tenant and key): a
 * retried call starts the same run, and gets its invoice instead of a second one.
 */
export function billingRunId(tenant: string, idempotencyKey: string): string {
  const h = createHash('sha256').update(`${tenant}\n${idempotencyKey}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/**
 * Closes a customer's billing period (decision 0066), as a durable workflow of `@refront/workflow`
 * (journaled with the invoicing data, resumed by any instance after a crash):
 *
 * 1. **lock** the period's unbilled entries to the run (none → FAILED_PRECONDITION; nothing stays);
 * 2. **price**: read the customer's hourly rate from the tickets service (`apply-rate` prices
 *    the locked entries with it);
 * 3. **issue** the invoice and queue InvoiceIssued in the outbox, in one transaction, only if the
 *    run still holds its entries.
 *
 * Every write step commits with its journal entry. When a step fails for good, `unlock` (registered
 * with lock) makes the entries billable again and marks the run compensated with the reason.
 */
export function closeBillingPeriod(deps: SagaDeps) {
  return defineWorkflow({
    name: 'close-billing-period',
    compensations: {
      unlock: async (c, _: null) => {
        await c.transaction(async (tx) => {
          const reason = failureText(c.failure);
          if (!(await store.setState(tx, c.runId, 'compensated', { reason }, ['locked', 'priced']))) return;
          await store.step(tx, c.runId, c.failure.step ?? 'saga', 'failed', reason);
          await tx.query(
            `update billable_entries set billing_run_id = null, rate_minor = null, amount_minor = null
             where billing_run_id = $1 and invoice_id is null`,
            [c.runId],
          );
          await store.step(tx, c.runId, 'compensate', 'done', 'entries unlocked');
        });
      },
    },
    async run(ctx, { tenant, customerId, period }: CloseInput): Promise<{ invoiceId: string }> {
      const runId = ctx.runId;
      await ctx.transaction(
        'lock',
        async (tx) => {
          await tx.query(
            `insert into billing_runs (id, tenant_id, customer_id, period, state) values ($1, $2, $3, $4, 'locked')`,
            [runId, tenant, customerId, period.name],
          );
          const { rowCount } = await tx.query(
            `update billable_entries set billing_run_id = $1
             where tenant_id = $2 and customer_id = $3 and work_date >= $4::date and work_date < $5::date
               and billing_run_id is null and invoice_id is null`,
            [runId, tenant, customerId, period.from, period.until],
          );
          if (rowCount === 0) throw nothingToBill(customerId, period.name);
          await store.step(tx, runId, 'lock', 'done', `${rowCount} entries`);
        },
        { compensate: { name: 'unlock', args: null } },
      );

      const customer = await ctx.step('price', async (s) => {
        // The call carries the run's tenant from its request context, which the engine restores
        // when another instance resumes the run after a crash.
        const { customer } = await deps.tickets.getCustomer(
          { id: customerId },
          { idempotencyKey: s.idempotencyKey },
        );
        if (!customer)
          throw new RefrontError('INTERNAL', 'INVOICING_NO_CUSTOMER', 'tickets answered without a customer');
        return { rate: customer.hourlyRateMinor, currency: customer.currency };
      });

      await ctx.transaction('apply-rate', async (tx) => {
        const { rowCount } = await tx.query(
          `update billable_entries set rate_minor = $2, amount_minor = (minutes::bigint * $2::bigint + 30) / 60
           where billing_run_id = $1 and invoice_id is null`,
          [runId, customer.rate],
        );
        await store.setState(tx, runId, 'priced', {}, ['locked']);
        await store.step(
          tx,
          runId,
          'price',
          'done',
          `${rowCount} entries at ${customer.rate} ${customer.currency}/h`,
        );
      });

      return ctx.transaction('issue', async (tx) => {
        const number = await store.nextInvoiceNumber(tx, tenant);
        const invoiceId = randomUUID();
        const lines = await tx.query<{ amount_minor: number; minutes: number }>(
          `update billable_entries set invoice_id = $2 where billing_run_id = $1 and invoice_id is null
           returning amount_minor, minutes`,
          [runId, invoiceId],
        );
        // The run must still hold its entries and be priced: never issue over a compensated run.
        if (lines.rowCount === 0 || !(await store.setState(tx, runId, 'issued', { invoiceId }, ['priced'])))
          throw new RefrontError(
            'ABORTED',
            'INVOICING_RUN_LOST',
            `billing run ${runId} no longer holds its entries`,
          );
        const totalMinor = lines.rows.reduce((s, r) => s + Number(r.amount_minor), 0);
        const totalMinutes = lines.rows.reduce((s, r) => s + Number(r.minutes), 0);
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
            lineCount: lines.rowCount,
          },
          { key: customerId },
        );
        await store.step(tx, runId, 'publish', 'done', 'InvoiceIssued queued in the outbox');
        return { invoiceId };
      });
    },
  });
}

function nothingToBill(customerId: string, period: string): RefrontError {
  return new RefrontError(
    'FAILED_PRECONDITION',
    'INVOICING_NOTHING_TO_BILL',
    `customer ${customerId} has no unbilled time in ${period}`,
    { details: { metadata: { customerId, period } }, retryable: false },
  );
}

function failureText(f: RunFailure): string {
  return `${f.status} ${f.reason}: ${f.message}`;
}
