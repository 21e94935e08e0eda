import { randomUUID } from 'node:crypto';
import { isRefrontError, RefrontError } from '@refront/core';
import {
  createIdempotentRequests,
  type ModuleRuntime,
  pageOf,
  pageRequest,
  type ServiceModule,
} from '@refront/data';
import { requireTenant, Violations } from '@refront/validate';
import { TicketStatus, TicketsServiceDefinition } from '../gen/refront/tickets/v1/tickets.js';
import {
  type TimeEntry,
  TimeLogged,
  TimeTrackingServiceDefinition,
} from '../gen/refront/timetracking/v1/timetracking.js';
import { timeTrackingMigrations } from './migrations.js';

/** Most minutes one entry may hold (a day). */
export const MAX_MINUTES = 1_440;
const DATE = /^\d{4}-\d{2}-\d{2}$/;
const DAY_MS = 86_400_000;

interface EntryRow {
  seq: number;
  id: string;
  ticket_id: string;
  customer_id: string;
  minutes: number;
  description: string;
  work_date: string;
  created_at: Date;
}

/**
 * The time-tracking service: logs time on open tickets (checked through the tickets service,
 * behind the default resilience policy) and publishes TimeLogged through its outbox. LogTime
 * stores its response with its entry under the call's idempotency key: a retry after a lost
 * reply gets the first entry back instead of logging the time twice (decision 0052).
 */
export const timeTrackingModule: ServiceModule = {
  name: 'time-tracking',
  callers: { gateway: '*' },
  events: { publishes: [TimeLogged], consumes: [] },
  migrations: timeTrackingMigrations,
  async register({ server, client, db, outbox, metrics, logger, onClose }: ModuleRuntime) {
    const tickets = client(TicketsServiceDefinition);
    const requests = createIdempotentRequests({ db, metrics, logger });
    requests.start();
    onClose(() => requests.close());

    server.add(TimeTrackingServiceDefinition, {
      async logTime(request, ctx) {
        const tenant = requireTenant(ctx);
        const workDate = request.workDate === '' ? today() : request.workDate;
        new Violations()
          .required('ticketId', request.ticketId)
          .check(
            !Number.isInteger(request.minutes) || request.minutes < 1 || request.minutes > MAX_MINUTES,
            'minutes',
            `must be a whole number from 1 to ${MAX_MINUTES}`,
          )
          .check(request.description.length > 2_000, 'description', 'must be at most 2000 characters')
          .check(!validDate(workDate), 'workDate', 'must be a date YYYY-MM-DD, not in the future')
          .throwIfAny('TIMETRACKING_INVALID_ENTRY', 'the time entry is invalid');
        // A retry gets the first answer even if the ticket was resolved since.
        const stored = await requests.replay(ctx, TimeTrackingServiceDefinition.methods.logTime, request);
        if (stored) return stored;

        const { ticket } = await tickets.getTicket({ id: request.ticketId }).catch((error: unknown) => {
          if (isRefrontError(error) && error.status === 'NOT_FOUND') {
            throw new RefrontError(
              'NOT_FOUND',
              'TIMETRACKING_TICKET_NOT_FOUND',
              `ticket ${request.ticketId} does not exist`,
              {
                details: { metadata: { ticketId: request.ticketId } },
                retryable: false,
                cause: error,
              },
            );
          }
          throw error;
        });
        if (!ticket)
          throw new RefrontError('INTERNAL', 'TIMETRACKING_BAD_TICKET', 'tickets answered without a ticket');
        if (ticket.status === TicketStatus.TICKET_STATUS_RESOLVED) {
          throw new RefrontError(
            'FAILED_PRECONDITION',
            'TIMETRACKING_TICKET_RESOLVED',
            `ticket ${ticket.id} is resolved: time cannot be logged on it`,
            { details: { metadata: { ticketId: ticket.id } }, retryable: false },
          );
        }

        return requests.run(ctx, TimeTrackingServiceDefinition.methods.logTime, request, async (tx) => {
          const { rows } = await tx.query<EntryRow>(
            `insert into time_entries (id, tenant_id, ticket_id, customer_id, minutes, description, work_date)
             values ($1, $2, $3, $4, $5, $6, $7)
             returning seq, id, ticket_id, customer_id, minutes, description, work_date::text as work_date, created_at`,
            [
              randomUUID(),
              tenant,
              ticket.id,
              ticket.customerId,
              request.minutes,
              request.description,
              workDate,
            ],
          );
          const stored = toEntry(rows[0] as EntryRow);
          await outbox.add(
            tx,
            TimeLogged,
            {
              entryId: stored.id,
              ticketId: stored.ticketId,
              customerId: stored.customerId,
              minutes: stored.minutes,
              description: stored.description,
              workDate: stored.workDate,
            },
            { key: stored.ticketId },
          );
          return { entry: stored };
        });
      },

      async listTimeEntries(request, ctx) {
        const tenant = requireTenant(ctx);
        const req = pageRequest(request.pageSize, request.pageToken);
        const { rows } = await db.query<EntryRow>(
          `select seq, id, ticket_id, customer_id, minutes, description, work_date::text as work_date, created_at
           from time_entries
           where tenant_id = $1 and ($2::bigint is null or seq < $2)
             and ($3::text is null or ticket_id = $3) and ($4::text is null or customer_id = $4)
           order by seq desc limit $5`,
          [tenant, req.before ?? null, request.ticketId || null, request.customerId || null, req.limit + 1],
        );
        const { items, nextPageToken } = pageOf(rows, req.limit);
        return { entries: items.map(toEntry), nextPageToken };
      },
    });
  },
};

function toEntry(r: EntryRow): TimeEntry {
  return {
    id: r.id,
    ticketId: r.ticket_id,
    customerId: r.customer_id,
    minutes: r.minutes,
    description: r.description,
    workDate: r.work_date,
    createdAt: r.created_at,
  };
}

function today(): string {
  return new Date().toISOString().slice(0, 10);
}

/** A real calendar date, at most one day ahead of UTC today (time zones). */
function validDate(s: string): boolean {
  if (!DATE.test(s)) return false;
  const t = Date.parse(`${s}T00:00:00Z`);
  return Number.isFinite(t) && new Date(t).toISOString().startsWith(s) && t <= Date.now() + DAY_MS;
}
