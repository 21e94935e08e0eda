import { on } from '@refront/core';
import { encodeEvent } from '@refront/core/transport';
import { createEmbeddedPostgres, type EmbeddedPostgres, openDatabase } from '@refront/data';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BillingRunState,
  InvoiceIssued,
  InvoicingServiceDefinition,
} from '../gen/refront/invoicing/v1/invoicing.js';
import { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { TimeLogged } from '../gen/refront/timetracking/v1/timetracking.js';
import { eventually, type Harness, rejection, startHarness } from '../platform/testing/harness.js';
import { ticketsModule } from '../tickets/module.js';
import { invoicingModule } from './module.js';
import { periodBounds, priceMinutes } from './pricing.js';

let embedded: EmbeddedPostgres;
let h: Harness;
const issued: InvoiceIssued[] = [];

beforeAll(async () => {
  embedded = await createEmbeddedPostgres();
  h = await startHarness([ticketsModule, invoicingModule], { embedded });
  await h.bus.as('audit').subscribe('audit', [on(InvoiceIssued, async (e) => void issued.push(e))]);
});
afterAll(async () => {
  await h?.stop();
  await embedded?.close();
});

let entrySeq = 0;
/** Publishes TimeLogged as the time-tracking service would. */
async function logTime(
  harness: Harness,
  tenant: string,
  customerId: string,
  minutes: number,
  workDate: string,
) {
  const entryId = `entry-${++entrySeq}`;
  await harness.bus
    .as('time-tracking')
    .publish(
      TimeLogged,
      { entryId, ticketId: 't1', customerId, minutes, workDate, description: 'work' },
      { tenant },
    );
  return entryId;
}

async function customer(tenant: string, rate: number) {
  const { customer } = await h
    .client(TicketsServiceDefinition, tenant)
    .createCustomer({ name: 'Billable', hourlyRateMinor: rate, currency: 'EUR' });
  return customer?.id ?? '';
}

/** Waits until the consumer stored every published entry. */
async function drained(harness: Harness) {
  await eventually(async () => (harness.bus.pendingCount('invoicing') === 0 ? true : undefined));
}

describe('pricing', () => {
  it('rounds half up to a whole minor unit with integer arithmetic', () => {
    expect(priceMinutes(90, 9_000)).toBe(13_500);
    expect(priceMinutes(7, 3_333)).toBe(389);
    expect(priceMinutes(1, 30)).toBe(1);
    expect(priceMinutes(1, 29)).toBe(0);
    expect(periodBounds('2026-12')).toEqual({ from: '2026-12-01', until: '2027-01-01' });
    expect(periodBounds('2026-13')).toBeUndefined();
  });
});

describe('closing a billing period (saga)', () => {
  it('locks, prices, issues and publishes; totals are exact to the cent', async () => {
    const customerId = await customer('acme', 3_333);
    await logTime(h, 'acme', customerId, 90, '2026-10-03');
    await logTime(h, 'acme', customerId, 7, '2026-10-31');
    await logTime(h, 'acme', customerId, 50, '2026-11-01');
    await drained(h);
    const api = h.client(InvoicingServiceDefinition, 'acme', ['admin']);
    const { run, invoice } = await api.closeBillingPeriod({ customerId, period: '2026-10' });
    expect(run?.state).toBe(BillingRunState.BILLING_RUN_STATE_ISSUED);
    expect(run?.steps.map((s) => `${s.name}:${s.outcome}`)).toEqual([
      'lock:done',
      'price:done',
      'issue:done',
      'publish:done',
    ]);
    expect(invoice?.lines.map((l) => l.amountMinor)).toEqual([
      priceMinutes(90, 3_333),
      priceMinutes(7, 3_333),
    ]);
    expect(invoice?.totalMinor).toBe(priceMinutes(90, 3_333) + priceMinutes(7, 3_333));
    expect(invoice).toMatchObject({ totalMinutes: 97, currency: 'EUR', period: '2026-10' });
    expect(invoice?.number).toMatch(/^INV-\d{6}$/);
    const event = await eventually(async () => issued.find((e) => e.invoiceId === invoice?.id));
    expect(event).toMatchObject({ totalMinor: invoice?.totalMinor, lineCount: 2, customerId });

    const again = await rejection(api.closeBillingPeriod({ customerId, period: '2026-10' }));
    expect([again.status, again.reason]).toEqual(['FAILED_PRECONDITION', 'INVOICING_NOTHING_TO_BILL']);
    const fetched = await api.getInvoice({ id: invoice?.id ?? '' });
    expect(fetched.invoice?.totalMinor).toBe(invoice?.totalMinor);
    const other = await rejection(
      h.client(InvoicingServiceDefinition, 'initech').getInvoice({ id: invoice?.id ?? '' }),
    );
    expect(other.status).toBe('NOT_FOUND');
  });

  it('refuses a caller without the admin role before the saga starts (PERMISSION_DENIED)', async () => {
    const customerId = await customer('acme', 2_000);
    await logTime(h, 'acme', customerId, 30, '2026-05-04');
    await drained(h);
    for (const roles of [[], ['member']] as const) {
      const refused = await rejection(
        h
          .client(InvoicingServiceDefinition, 'acme', roles)
          .closeBillingPeriod({ customerId, period: '2026-05' }),
      );
      expect([refused.status, refused.reason]).toEqual(['PERMISSION_DENIED', 'VALIDATE_ROLE_REQUIRED']);
    }
    // Nothing was locked or billed: the admin's close bills the entry.
    const { invoice } = await h
      .client(InvoicingServiceDefinition, 'acme', ['admin'])
      .closeBillingPeriod({ customerId, period: '2026-05' });
    expect(invoice?.totalMinor).toBe(1_000);
  });

  it('bills each entry once when the same TimeLogged arrives twice', async () => {
    const customerId = await customer('acme', 6_000);
    const { envelope, body } = encodeEvent(
      'time-tracking',
      TimeLogged,
      { entryId: 'dup-1', ticketId: 't', customerId, minutes: 60, workDate: '2026-09-10' },
      { tenant: 'acme' },
    );
    const tt = h.bus.as('time-tracking');
    await tt.publishRaw(envelope, body);
    await tt.publishRaw(envelope, body);
    await drained(h);
    const { invoice } = await h
      .client(InvoicingServiceDefinition, 'acme', ['admin'])
      .closeBillingPeriod({ customerId, period: '2026-09' });
    expect(invoice?.lines).toHaveLength(1);
    expect(invoice?.totalMinor).toBe(6_000);
  });

  it('two concurrent closes of one period issue one invoice', async () => {
    const customerId = await customer('acme', 6_000);
    for (let i = 0; i < 5; i++) await logTime(h, 'acme', customerId, 30, `2026-08-0${i + 1}`);
    await drained(h);
    const api = h.client(InvoicingServiceDefinition, 'acme', ['admin']);
    const results = await Promise.allSettled([
      api.closeBillingPeriod({ customerId, period: '2026-08' }),
      api.closeBillingPeriod({ customerId, period: '2026-08' }),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok).toHaveLength(1);
    const billed = ok[0]?.status === 'fulfilled' ? ok[0].value.invoice : undefined;
    expect(billed?.lines).toHaveLength(5);
  });

  it('dead-letters an invalid TimeLogged with the reason, and keeps consuming', async () => {
    await h.bus.as('time-tracking').publish(TimeLogged, { entryId: '', minutes: 0 }, { tenant: 'acme' });
    const dead = await eventually(async () =>
      h.bus.deadLetters('invoicing').find((d) => d.envelope.type === TimeLogged.$type),
    );
    expect(dead.reason).toBe('INVOICING_BAD_TIME_LOGGED');
    expect(dead.attempts).toBe(1);
    const customerId = await customer('acme', 100);
    await logTime(h, 'acme', customerId, 60, '2026-07-01');
    await drained(h);
    const { invoice } = await h
      .client(InvoicingServiceDefinition, 'acme', ['admin'])
      .closeBillingPeriod({ customerId, period: '2026-07' });
    expect(invoice?.totalMinor).toBe(100);
  });

  it('compensates when pricing fails: entries unlocked, the run shows why, a later close succeeds', async () => {
    // A second platform sharing the database, without the tickets service: pricing cannot read the rate.
    const alone = await startHarness([invoicingModule], { embedded });
    try {
      const customerId = await customer('acme', 4_500);
      await logTime(alone, 'acme', customerId, 120, '2026-06-15');
      await drained(alone);
      const error = await rejection(
        alone
          .client(InvoicingServiceDefinition, 'acme', ['admin'])
          .closeBillingPeriod({ customerId, period: '2026-06' }),
      );
      expect(error.status).toBe('UNAVAILABLE');
      const runId = error.details.metadata?.billingRunId ?? '';
      const { run } = await h.client(InvoicingServiceDefinition, 'acme').getBillingRun({ id: runId });
      expect(run?.state).toBe(BillingRunState.BILLING_RUN_STATE_COMPENSATED);
      expect(run?.steps.map((s) => `${s.name}:${s.outcome}`)).toEqual([
        'lock:done',
        'price:failed',
        'compensate:done',
      ]);
      expect(run?.failureReason).toContain('UNAVAILABLE');
      const { invoice } = await h
        .client(InvoicingServiceDefinition, 'acme', ['admin'])
        .closeBillingPeriod({ customerId, period: '2026-06' });
      expect(invoice?.totalMinor).toBe(9_000);
    } finally {
      await alone.stop();
    }
  });

  it('retries a compensation that fails twice: the run ends compensated, entries unlocked, no invoice', async () => {
    await using db = await openDatabase({ schema: 'invoicing', embedded });
    // Unlocking fails twice (a sequence counts attempts: it is not rolled back with them).
    await db.query('create sequence unlock_attempts');
    await db.query(`create function fail_unlock_twice() returns trigger language plpgsql as $$
      begin
        if old.billing_run_id is not null and new.billing_run_id is null and nextval('unlock_attempts') <= 2 then
          raise exception 'unlock failed';
        end if;
        return new;
      end $$`);
    await db.query(
      'create trigger fail_unlock before update on billable_entries for each row execute function fail_unlock_twice()',
    );
    const alone = await startHarness([invoicingModule], { embedded });
    try {
      const customerId = await customer('acme', 4_500);
      await logTime(alone, 'acme', customerId, 60, '2026-04-15');
      await drained(alone);
      const error = await rejection(
        alone
          .client(InvoicingServiceDefinition, 'acme', ['admin'])
          .closeBillingPeriod({ customerId, period: '2026-04' }),
      );
      expect(error.status).toBe('UNAVAILABLE');
      const runId = error.details.metadata?.billingRunId ?? '';
      const entries = await db.query(
        'select billing_run_id, invoice_id from billable_entries where customer_id = $1',
        [customerId],
      );
      expect(entries.rows).toEqual([{ billing_run_id: null, invoice_id: null }]);
      const invoices = await db.query('select 1 from invoices where customer_id = $1', [customerId]);
      expect(invoices.rowCount).toBe(0);
      const compensation = await db.query(
        'select state, attempts, last_error from refront_workflow_compensations where run_id = $1',
        [runId],
      );
      expect(compensation.rows).toEqual([{ state: 'done', attempts: 3, last_error: 'unlock failed' }]);
      const { run } = await h.client(InvoicingServiceDefinition, 'acme').getBillingRun({ id: runId });
      expect(run?.state).toBe(BillingRunState.BILLING_RUN_STATE_COMPENSATED);
    } finally {
      await alone.stop();
      await db.query('drop trigger fail_unlock on billable_entries');
    }
  });
});
