import { on, RefrontError } from '@refront/core';
import { createInbox, type Transaction } from '@refront/data';
import { ReportingServiceDefinition } from '../gen/refront/reporting/v1/reporting.js';
import { requireTenant, Violations } from '../platform/errors.js';
import type { ModuleRuntime, ServiceModule } from '../platform/module.js';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../platform/paging.js';
import { reportingMigrations } from './migrations.js';
import {
  decodeLogged,
  encodeForLog,
  PROJECTED_TYPES,
  project,
  READ_MODEL_TABLES,
  validate,
} from './projections.js';
import { customerReports, ticketReport } from './queries.js';

/** Reason codes of the reporting service. */
export const ReportingReason = {
  /** A consumed event is invalid (dead-lettered at once, never logged). */
  BAD_EVENT: 'REPORTING_BAD_EVENT',
  /** A report request has field errors. */
  INVALID_REQUEST: 'REPORTING_INVALID_REQUEST',
} as const;

/** Events replayed per query during a rebuild. */
export const REBUILD_BATCH_SIZE = 500;

const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;

/**
 * The reporting service (CQRS read side): logs every event it consumes (TimeLogged, InvoiceIssued,
 * TicketCreated, TicketClassified, TicketResolved) in its own event log and projects it into read
 * models in the same transaction; answers reports from them; and rebuilds a tenant's read models
 * from scratch by replaying its log. It calls no other service.
 */
export const reportingModule: ServiceModule = {
  name: 'reporting',
  events: { publishes: [], consumes: PROJECTED_TYPES },
  migrations: reportingMigrations,
  async register({ name, server, bus, db, metrics, logger }: ModuleRuntime) {
    server.add(ReportingServiceDefinition, {
      async getCustomerReport(request, ctx) {
        const tenant = requireTenant(ctx.tenant);
        const after = request.pageToken === '' ? undefined : decodeToken(request.pageToken);
        new Violations()
          .check(
            request.fromMonth !== '' && !MONTH.test(request.fromMonth),
            'fromMonth',
            'must be a month YYYY-MM',
          )
          .check(request.toMonth !== '' && !MONTH.test(request.toMonth), 'toMonth', 'must be a month YYYY-MM')
          .check(
            request.fromMonth !== '' && request.toMonth !== '' && request.fromMonth > request.toMonth,
            'toMonth',
            'must not be before fromMonth',
          )
          .check(
            !Number.isInteger(request.pageSize) || request.pageSize < 0 || request.pageSize > MAX_PAGE_SIZE,
            'pageSize',
            `must be between 0 and ${MAX_PAGE_SIZE}`,
          )
          .check(after === null, 'pageToken', 'is not a token returned by this report')
          .throwIfAny(ReportingReason.INVALID_REQUEST, 'the report request is invalid');
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
        return ticketReport(db, requireTenant(ctx.tenant));
      },

      async rebuildReadModels(_request, ctx) {
        const tenant = requireTenant(ctx.tenant);
        const started = performance.now();
        const eventsReplayed = await db.transaction((tx) => rebuild(tx, tenant));
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
  },
};

/**
 * Empties the tenant's read models and replays its event log into them, in one transaction that
 * first locks the log against writers (PostgreSQL), so no event is applied twice or missed.
 */
async function rebuild(tx: Transaction, tenant: string): Promise<number> {
  await tx.query('lock table event_log in share row exclusive mode');
  for (const table of READ_MODEL_TABLES)
    await tx.query(`delete from ${table} where tenant_id = $1`, [tenant]);
  let after = 0;
  let replayed = 0;
  for (;;) {
    const { rows } = await tx.query<{ seq: number; type: string; body: Uint8Array }>(
      'select seq, type, body from event_log where tenant_id = $1 and seq > $2 order by seq limit $3',
      [tenant, after, REBUILD_BATCH_SIZE],
    );
    for (const row of rows) {
      const event = decodeLogged(row.type, row.body);
      if (event === undefined) {
        throw new RefrontError(
          'INTERNAL',
          ReportingReason.BAD_EVENT,
          `the event log holds an unknown type ${row.type}`,
        );
      }
      await project(tx, tenant, row.type, event);
      after = row.seq;
      replayed++;
    }
    if (rows.length < REBUILD_BATCH_SIZE) return replayed;
  }
}

/** The customer id a page token stands for; null when it is not one of ours. */
function decodeToken(token: string): string | null {
  const text = Buffer.from(token, 'base64url').toString('utf8');
  return text.startsWith('c') && text.length > 1 ? text.slice(1) : null;
}
