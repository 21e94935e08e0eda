import { on, RefrontError } from '@refront/core';
import { createInbox, DEFAULT_PAGE_SIZE, type ModuleRuntime, type ServiceModule } from '@refront/data';
import { requireRole, requireTenant } from '@refront/validate';
import { ReportingServiceDefinition } from '../gen/refront/reporting/v1/reporting.js';
import { reportingMigrations } from './migrations.js';
import { encodeForLog, PROJECTED_TYPES, project, validate } from './projections.js';
import { customerReports, ticketReport } from './queries.js';
import { ReportingReason } from './reasons.js';
import { rebuildTenant } from './rebuild.js';
import { lockTenantForProjection } from './tenantLock.js';

/** Options of {@link createReportingModule}. */
export interface ReportingModuleOptions {
  /**
   * Runs inside a rebuild once the tenant's lock is held, before its read models are emptied: a
   * fault point for tests that must see what happens while a rebuild holds its lock. @default none
   */
  readonly whileRebuildLocked?: (tenant: string) => Promise<void>;
}

/**
 * The reporting service (CQRS read side): logs every event it consumes (TimeLogged, InvoiceIssued,
 * TicketCreated, TicketClassified, TicketResolved) in its own event log and projects it into read
 * models in the same transaction; answers reports from them; and rebuilds one tenant's read models
 * from scratch by replaying its log, holding only that tenant's lock (an admin's call). It calls
 * no other service.
 *
 * @example
 * startHarness([createReportingModule({ whileRebuildLocked: () => paused })], { url });
 */
export function createReportingModule(options: ReportingModuleOptions = {}): ServiceModule {
  return {
    name: 'reporting',
    callers: { gateway: '*' },
    events: { publishes: [], consumes: PROJECTED_TYPES },
    migrations: reportingMigrations,
    register: (runtime) => register(runtime, options),
  };
}

/** The reporting service as the platform runs it. */
export const reportingModule: ServiceModule = createReportingModule();

async function register(
  { name, server, bus, db, metrics, logger }: ModuleRuntime,
  options: ReportingModuleOptions,
): Promise<void> {
  server.add(ReportingServiceDefinition, {
    async getCustomerReport(request, ctx) {
      const tenant = requireTenant(ctx);
      const after = request.pageToken === '' ? undefined : decodeToken(request.pageToken);
      // Months, their order, the customer id and the page size are the contract's rules
      // (reporting.proto), checked before this runs; only the token's content is ours to check.
      if (after === null) {
        throw new RefrontError(
          'INVALID_ARGUMENT',
          ReportingReason.INVALID_REQUEST,
          'the report request is invalid',
          {
            details: {
              fieldViolations: [
                { field: 'pageToken', description: 'is not a token returned by this report' },
              ],
            },
            retryable: false,
          },
        );
      }
      const limit = request.pageSize === 0 ? DEFAULT_PAGE_SIZE : request.pageSize;
      const customers = await customerReports(db, tenant, {
        customerId: request.customerId || undefined,
        fromMonth: request.fromMonth || undefined,
        toMonth: request.toMonth || undefined,
        after: after ?? undefined,
        limit,
      });
      const items = customers.slice(0, limit);
      const last = items.at(-1);
      const more = customers.length > limit && last !== undefined;
      return {
        customers: items,
        nextPageToken: more ? Buffer.from(`c${last.customerId}`).toString('base64url') : '',
      };
    },

    async getTicketReport(_request, ctx) {
      return ticketReport(db, requireTenant(ctx));
    },

    async rebuildReadModels(_request, ctx) {
      const tenant = requireTenant(ctx);
      // The gateway checked it too; a role name it grants (gateway/roles.ts, decision 0069).
      requireRole(ctx, 'admin');
      const started = performance.now();
      const eventsReplayed = await db.transaction((tx) =>
        rebuildTenant(tx, tenant, options.whileRebuildLocked),
      );
      const durationMs = performance.now() - started;
      logger.info({ tenant, eventsReplayed, durationMs }, 'read models rebuilt from the event log');
      return { eventsReplayed, durationMs };
    },
  });

  const inbox = createInbox({ db, group: name, metrics, logger });
  const handler = inbox.handler(async (event: unknown, context, tx) => {
    const { envelope } = context;
    validate(envelope.type, event, envelope.tenant);
    const tenant = envelope.tenant as string;
    await lockTenantForProjection(tx, tenant);
    const { rows } = await tx.query(
      `insert into event_log (event_id, tenant_id, type, source, published_at, body)
         values ($1, $2, $3, $4, $5, $6) on conflict (event_id) do nothing returning seq`,
      [
        envelope.id,
        tenant,
        envelope.type,
        envelope.source,
        new Date(envelope.timestamp),
        encodeForLog(envelope.type, event),
      ],
    );
    if (rows.length === 0) return;
    await project(tx, tenant, envelope.type, event);
  });
  await bus.subscribe(
    name,
    PROJECTED_TYPES.map((type) => on(type, handler)),
  );
}

/** The customer id a page token stands for; null when it is not one of ours. */
function decodeToken(token: string): string | null {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  return text.startsWith('c') && text.length > 1 ? text.slice(1) : null;
}

export { ReportingReason } from './reasons.js';
