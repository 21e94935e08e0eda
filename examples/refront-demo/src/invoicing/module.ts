import { randomUUID } from 'node:crypto';
import { isRefrontError, on, RefrontError } from '@refront/core';
import { createInbox, type ModuleRuntime, pageOf, pageRequest, type ServiceModule } from '@refront/data';
import { requireRole, requireTenant, Violations } from '@refront/validate';
import {
  createWorkflowEngine,
  type WorkflowEngineOptions,
  WorkflowErrors,
  workflowMigrations,
} from '@refront/workflow';
import { InvoiceIssued, InvoicingServiceDefinition } from '../gen/refront/invoicing/v1/invoicing.js';
import { TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import { TimeLogged } from '../gen/refront/timetracking/v1/timetracking.js';
import { billingRunNotFound, invoiceNotFound } from './errors.js';
import { invoicingMigrations } from './migrations.js';
import { periodBounds } from './pricing.js';
import { billingRunId, closeBillingPeriod } from './saga.js';
import { invoiceStore as store, toInvoice } from './store.js';

/**
 * Workflow engine settings of {@link createInvoicingModule} (tests shorten leases, crash at fault
 * points, and dead-letter compensations sooner).
 */
export type InvoicingWorkflowOptions = Pick<
  WorkflowEngineOptions,
  'leaseMs' | 'pollIntervalMs' | 'faultPoint' | 'compensationMaxAttempts' | 'minBackoffMs' | 'maxBackoffMs'
>;

/**
 * The invoicing service: collects billable time from TimeLogged (idempotently, through its
 * inbox), closes billing periods with a durable saga (`@refront/workflow`), and publishes
 * InvoiceIssued through its outbox. A CloseBillingPeriod call's idempotency key names its billing
 * run, so a retry after a lost reply finds the first run and answers with its invoice.
 */
export const invoicingModule: ServiceModule = createInvoicingModule();

/** The invoicing module with its saga's engine tuned by `workflow` (see {@link invoicingModule}). */
export function createInvoicingModule(workflow: InvoicingWorkflowOptions = {}): ServiceModule {
  return {
    name: 'invoicing',
    callers: { gateway: '*' },
    events: { publishes: [InvoiceIssued], consumes: [TimeLogged] },
    migrations: [...invoicingMigrations, ...workflowMigrations],
    async register({ name, server, bus, client, db, outbox, metrics, logger, onClose }: ModuleRuntime) {
      const saga = closeBillingPeriod({ outbox, tickets: client(TicketsServiceDefinition) });
      // Runs interrupted by a crash are resumed (or compensated) by any instance once their lease expires.
      const workflows = await createWorkflowEngine({
        db,
        workflows: [saga],
        service: name,
        logger,
        metrics,
        maxConcurrentRuns: 64,
        ...workflow,
      });
      onClose(() => workflows.close());

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
          const runId = ctx.idempotencyKey ? billingRunId(tenant, ctx.idempotencyKey) : randomUUID();
          const input = {
            tenant,
            customerId: request.customerId,
            period: { name: request.period, ...(bounds as { from: string; until: string }) },
          };
          let invoiceId: string;
          try {
            ({ invoiceId } = await (await workflows.start(saga, input, { id: runId })).result());
          } catch (e: unknown) {
            throw stepError(e, runId);
          }
          const [run, invoice] = [
            await store.run(db, tenant, runId),
            await store.invoice(db, tenant, invoiceId),
          ];
          if (!run || !invoice)
            throw new RefrontError('INTERNAL', 'INVOICING_NO_RESPONSE', 'the saga issued nothing');
          return { run, invoice };
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
            if (rowCount === 0)
              context.logger.info({ entryId: event.entryId }, 'time entry already billable');
          }),
        ),
      ]);
    },
  };
}

/** The error of the step that failed a billing run (it was compensated), with the run's id. */
function stepError(e: unknown, runId: string): unknown {
  if (!WorkflowErrors.FAILED.is(e) || !isRefrontError(e.cause)) return e;
  const cause = e.cause;
  if (cause.reason === 'INVOICING_NOTHING_TO_BILL')
    return new RefrontError(cause.status, cause.reason, cause.message, { retryable: false });
  const step = e.details.metadata?.step ?? 'saga';
  return new RefrontError(
    cause.status,
    cause.reason,
    `billing run ${runId} failed at ${step} and was undone: ${cause.message}`,
    {
      details: { metadata: { billingRunId: runId, step } },
      retryable: cause.retryable,
      cause: e,
    },
  );
}
