/**
 * Child process of the billing crash test: hosts the tickets and invoicing modules on the
 * PostgreSQL database `DATABASE_URL`. `MODE=setup` creates `CUSTOMERS` customers with the time
 * entries of `MINUTES` (comma-separated) in 2026-10 and prints their ids; `MODE=close` closes
 * 2026-10 for `CUSTOMER` with idempotency key `KEY`, dies by SIGKILL at the billing saga's fault
 * point `KILL_AT` (`<seq>:<before|after>`, or `none`), else prints the invoice id.
 */
import { writeSync } from 'node:fs';
import { InvoicingServiceDefinition } from '../../gen/refront/invoicing/v1/invoicing.js';
import { TicketsServiceDefinition } from '../../gen/refront/tickets/v1/tickets.js';
import { TimeLogged } from '../../gen/refront/timetracking/v1/timetracking.js';
import { createInvoicingModule } from '../../invoicing/module.js';
import { ticketsModule } from '../../tickets/module.js';
import { eventually, startHarness } from './harness.js';

const TENANT = 'acme';
const killAt = process.env.KILL_AT ?? 'none';
const invoicing = createInvoicingModule({
  leaseMs: 600,
  pollIntervalMs: 50,
  faultPoint: (p) => {
    if (p.workflow === 'close-billing-period' && `${p.seq}:${p.when}` === killAt)
      process.kill(process.pid, 'SIGKILL');
  },
});
const h = await startHarness([ticketsModule, invoicing], { url: process.env.DATABASE_URL ?? '' });

if (process.env.MODE === 'setup') {
  const minutes = (process.env.MINUTES ?? '').split(',').map(Number);
  const ids: string[] = [];
  for (let c = 0; c < Number(process.env.CUSTOMERS); c++) {
    const { customer } = await h
      .client(TicketsServiceDefinition, TENANT)
      .createCustomer({ name: `Billable ${c}`, hourlyRateMinor: 3_333, currency: 'EUR' });
    const customerId = customer?.id ?? '';
    ids.push(customerId);
    for (const [i, m] of minutes.entries())
      await h.bus.as('time-tracking').publish(
        TimeLogged,
        {
          entryId: `${customerId}-${i}`,
          ticketId: 't1',
          customerId,
          minutes: m,
          workDate: `2026-10-${String(i + 1).padStart(2, '0')}`,
          description: 'work',
        },
        { tenant: TENANT },
      );
  }
  await eventually(async () => (h.bus.pendingCount('invoicing') === 0 ? true : undefined));
  writeSync(1, `${JSON.stringify(ids)}\n`);
} else {
  const { invoice } = await h
    .client(InvoicingServiceDefinition, TENANT, ['admin'])
    .closeBillingPeriod(
      { customerId: process.env.CUSTOMER ?? '', period: '2026-10' },
      { idempotencyKey: process.env.KEY ?? '' },
    );
  writeSync(1, `${JSON.stringify({ invoiceId: invoice?.id })}\n`);
}
await h.stop();
