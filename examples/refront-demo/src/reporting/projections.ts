import type { MessageType } from '@refront/core';
import type { Queryable } from '@refront/data';
import { Violations } from '@refront/validate';
import { TicketClassified } from '../gen/refront/ai/v1/events.js';
import { InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import { TicketCreated, TicketResolved } from '../gen/refront/tickets/v1/events.js';
import { TimeLogged } from '../gen/refront/timetracking/v1/timetracking.js';

/** Every event type the read models are built from. */
// biome-ignore lint/suspicious/noExplicitAny: a list of different message types
export const PROJECTED_TYPES: readonly MessageType<any>[] = [
  TimeLogged,
  InvoiceIssued,
  TicketCreated,
  TicketClassified,
  TicketResolved,
];

const BY_NAME = new Map(PROJECTED_TYPES.map((t) => [t.$type, t]));
const MONTH = /^\d{4}-(0[1-9]|1[0-2])$/;
const DATE = /^\d{4}-(0[1-9]|1[0-2])-\d{2}$/;

/** Read-model tables a rebuild empties and refills. */
export const READ_MODEL_TABLES = ['customer_hours', 'customer_revenue', 'ticket_state'] as const;

/**
 * Checks an event before it is logged: a bad one is INVALID_ARGUMENT (dead-lettered at once,
 * never logged), so the log only holds events every projection can apply.
 */
export function validate(type: string, event: unknown, tenant: string | undefined): void {
  const v = new Violations().required('tenant', tenant, 'the envelope names no tenant');
  if (type === TimeLogged.$type) {
    const e = event as TimeLogged;
    v.required('customerId', e.customerId)
      .check(
        !Number.isInteger(e.minutes) || e.minutes < 1 || e.minutes > 1_440,
        'minutes',
        'must be 1 to 1440',
      )
      .check(!DATE.test(e.workDate), 'workDate', 'must be YYYY-MM-DD');
  } else if (type === InvoiceIssued.$type) {
    const e = event as InvoiceIssued;
    v.required('customerId', e.customerId)
      .check(!MONTH.test(e.period), 'period', 'must be YYYY-MM')
      .check(!/^[A-Z]{3}$/.test(e.currency), 'currency', 'must be an ISO 4217 code')
      .check(!Number.isSafeInteger(e.totalMinor), 'totalMinor', 'must be a whole number of minor units');
  } else {
    v.required('ticketId', (event as { ticketId: string }).ticketId);
  }
  v.throwIfAny('REPORTING_BAD_EVENT', `${type} is invalid`);
}

/** Applies one event to the read models; the result does not depend on the order events arrive in. */
export async function project(tx: Queryable, tenant: string, type: string, event: unknown): Promise<void> {
  switch (type) {
    case TimeLogged.$type: {
      const e = event as TimeLogged;
      await tx.query(
        `insert into customer_hours (tenant_id, customer_id, month, logged_minutes, entries) values ($1, $2, $3, $4, 1)
         on conflict (tenant_id, customer_id, month) do update
         set logged_minutes = customer_hours.logged_minutes + excluded.logged_minutes, entries = customer_hours.entries + 1`,
        [tenant, e.customerId, e.workDate.slice(0, 7), e.minutes],
      );
      return;
    }
    case InvoiceIssued.$type: {
      const e = event as InvoiceIssued;
      await tx.query(
        `insert into customer_revenue (tenant_id, customer_id, month, currency, amount_minor, billed_minutes, invoice_count)
         values ($1, $2, $3, $4, $5, $6, 1)
         on conflict (tenant_id, customer_id, month, currency) do update
         set amount_minor = customer_revenue.amount_minor + excluded.amount_minor,
             billed_minutes = customer_revenue.billed_minutes + excluded.billed_minutes,
             invoice_count = customer_revenue.invoice_count + 1`,
        [tenant, e.customerId, e.period, e.currency, e.totalMinor, e.totalMinutes],
      );
      return;
    }
    case TicketCreated.$type: {
      const e = event as TicketCreated;
      // A classification or resolution that arrived first keeps its category and status.
      await tx.query(
        `insert into ticket_state (tenant_id, ticket_id, customer_id, status) values ($1, $2, $3, 'open')
         on conflict (tenant_id, ticket_id) do update set customer_id = excluded.customer_id`,
        [tenant, e.ticketId, e.customerId],
      );
      return;
    }
    case TicketClassified.$type: {
      const e = event as TicketClassified;
      await tx.query(
        `insert into ticket_state (tenant_id, ticket_id, category, status) values ($1, $2, $3, 'open')
         on conflict (tenant_id, ticket_id) do update set category = excluded.category`,
        [tenant, e.ticketId, e.category],
      );
      return;
    }
    case TicketResolved.$type: {
      const e = event as TicketResolved;
      await tx.query(
        `insert into ticket_state (tenant_id, ticket_id, customer_id, category, status) values ($1, $2, $3, $4, 'resolved')
         on conflict (tenant_id, ticket_id) do update set status = 'resolved',
           category = case when ticket_state.category = '' then excluded.category else ticket_state.category end`,
        [tenant, e.ticketId, e.customerId, e.category],
      );
      return;
    }
  }
}

/** Decodes a logged body by its type name; undefined for a type no projection knows. */
export function decodeLogged(type: string, body: Uint8Array): unknown {
  return BY_NAME.get(type)?.decode(body);
}

/** Encodes a decoded event again for the log (the protobuf bytes). */
export function encodeForLog(type: string, event: unknown): Uint8Array {
  const messageType = BY_NAME.get(type);
  if (!messageType) throw new Error(`no projection for ${type}`);
  return messageType.encode(event).finish();
}
