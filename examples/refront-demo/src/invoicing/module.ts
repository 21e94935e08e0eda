import { on, RefrontError } from '@refront/core';
import {
  createIdempotentRequests,
  createInbox,
  type ModuleRuntime,
  pageOf,
  pageRequest,
  type ServiceModule,
} from '@refront/data';
import { requireRole, requireTenant, Violations } from '@refront/validate';
import {
  type CloseBillingPeriodResponse,
  InvoiceIssued,
  InvoicingServiceDefinition,
} from '../gen/refront/invoicing/v1/invoicing.js';
import { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { TimeLogged } from '../gen/refront/timetracking/v1/timetracking.js';
import { billingRunNotFound, invoiceNotFound } from './errors.js';
import { invoicingMigrations } from './migrations.js';
import { periodBounds } from './pricing.js';
import { closeBillingPeriod, recoverStaleRuns, type SagaDeps } from './saga.js';
import { invoiceStore as store, toInvoice } from './store.js';

/** Runs still unfinished this long after their last step are compensated at start. */
export const STALE_RUN_MS = 60_000;

/**
 * The invoicing service: collects billable time from TimeLogged (idempotently, through its
 * inbox), closes billing periods with a saga, and publishes InvoiceIssued through its outbox.
 * CloseBillingPeriod stores its response in the saga's issue transaction under the call's
 * idempotency key, so a retry after a lost reply gets the first invoice (decision 0052).
 */
export const invoicingModule: ServiceModule = {
  name: 'invoicing',
  callers: { gateway: '*' },
  events: { publishes: [InvoiceIssued], consumes: [TimeLogged] },
  migrations: invoicingMigrations,
  async register({ name, server, bus, client, db, outbox, metrics, logger, onClose }: ModuleRuntime) {
    const deps: SagaDeps = { db, outbox, logger, tickets: client(TicketsServiceDefinition) };
    const requests = createIdempotentRequests({ db, metrics, logger });
    requests.start();
    onClose(() => requests.close());
    const close = InvoicingServiceDefinition.methods.closeBillingPeriod;
    const recovered = await recoverStaleRuns(deps, STALE_RUN_MS);
    if (recovered > 0) logger.warn({ recovered }, 'compensated billing runs interrupted by a stop');

    server.add(InvoicingServiceDefinition, {
      async closeBillingPeriod(request, ctx) {
        const tenant = requireTenant(ctx);
        // The gateway checked it too; a role name it grants (gateway/roles.ts, decision 0069).
        requireRole(ctx, 'admin');
        const bounds = periodBounds(request.period);
        new Violations()
          .required('customerId', request.customerId)
          .check(bounds === undefined, 'period', 'must be a month YYYY-MM')
          .throwIfAny('INVOICING_INVALID_PERIOD', 'the billing period is invalid');
        const stored = await requests.replay(ctx, close, request);
        if (stored) return stored;
        let response: CloseBillingPeriodResponse | undefined;
        await closeBillingPeriod(
          deps,
          tenant,
          request.customerId,
          { name: request.period, ...(bounds as { from: string; until: string }) },
          async (tx, runId, invoice) => {
            const run = await store.run(tx, tenant, runId);
            response = await requests.record(tx, ctx, close, request, { run, invoice });
          },
        );
        if (!response) throw new RefrontError('INTERNAL', 'INVOICING_NO_RESPONSE', 'the saga issued nothing');
        return response;
      },

      async getBillingRun(request, ctx) {
        const tenant = requireTenant(ctx);
        const run = await store.run(db, tenant, request.id);
        if (!run) throw billingRunNotFound(request.id);
        return { run };
      },

      async getInvoice(request, ctx) {
        const tenant = requireTenant(ctx);
        const invoice = await store.invoice(db, tenant, request.id);
        if (!invoice) throw invoiceNotFound(request.id);
        return { invoice };
      },

      async listInvoices(request, ctx) {
        const tenant = requireTenant(ctx);
        const req = pageRequest(request.pageSize, request.pageToken);
        const rows = await store.invoices(db, tenant, request.customerId || undefined, req);
        const { items, nextPageToken } = pageOf(rows, req.limit);
        return { invoices: items.map((r) => toInvoice(r)), nextPageToken };
      },
    });

    const inbox = createInbox({ db, group: name, metrics, logger });
    await bus.subscribe(name, [
      on(
        TimeLogged,
        inbox.handler(async (event, context, tx) => {
          const tenant = context.envelope.tenant;
          new Violations()
            .required('tenant', tenant, 'the envelope names no tenant')
            .required('entryId', event.entryId)
            .required('customerId', event.customerId)
            .check(
              !Number.isInteger(event.minutes) || event.minutes < 1 || event.minutes > 1_440,
              'minutes',
              'must be 1 to 1440',
            )
            .check(!/^\d{4}-\d{2}-\d{2}$/.test(event.workDate), 'workDate', 'must be YYYY-MM-DD')
            .throwIfAny('INVOICING_BAD_TIME_LOGGED', 'TimeLogged is invalid');
          const { rowCount } = await tx.query(
            `insert into billable_entries (entry_id, tenant_id, ticket_id, customer_id, minutes, description, work_date)
             values ($1, $2, $3, $4, $5, $6, $7) on conflict (entry_id) do nothing`,
            [
              event.entryId,
              tenant,
              event.ticketId,
              event.customerId,
              event.minutes,
              event.description,
              event.workDate,
            ],
          );
          if (rowCount === 0) context.logger.info({ entryId: event.entryId }, 'time entry already billable');
        }),
      ),
    ]);
  },
};
