/**
 * Converts between the services' protobuf messages and the public JSON: enums as lowercase words,
 * timestamps as ISO 8601 strings, "not set" as null, money as integer minor units.
 */
import { RefrontError } from '@refront/core';
import {
  type BillingRun,
  BillingRunState,
  type Invoice,
  type InvoiceLine,
  type SagaStep,
} from '../gen/refront/invoicing/v1/invoicing.js';
import {
  type Customer,
  type Ticket,
  TicketPriority,
  TicketStatus,
} from '../gen/refront/tickets/v1/tickets.js';
import type { TimeEntry } from '../gen/refront/timetracking/v1/timetracking.js';
import { GatewayReason } from './errors.js';

/** Ticket statuses as they appear in JSON. */
export const TICKET_STATUSES = ['open', 'resolved'] as const;
/** Ticket priorities as they appear in JSON. */
export const TICKET_PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const;
/** Billing run states as they appear in JSON. */
export const BILLING_RUN_STATES = ['started', 'locked', 'priced', 'issued', 'compensated'] as const;

export type TicketStatusJson = (typeof TICKET_STATUSES)[number];
export type TicketPriorityJson = (typeof TICKET_PRIORITIES)[number];
export type BillingRunStateJson = (typeof BILLING_RUN_STATES)[number];

const STATUS_TO_PROTO: Readonly<Record<TicketStatusJson, TicketStatus>> = {
  open: TicketStatus.TICKET_STATUS_OPEN,
  resolved: TicketStatus.TICKET_STATUS_RESOLVED,
};
const PRIORITY_TO_PROTO: Readonly<Record<TicketPriorityJson, TicketPriority>> = {
  low: TicketPriority.TICKET_PRIORITY_LOW,
  normal: TicketPriority.TICKET_PRIORITY_NORMAL,
  high: TicketPriority.TICKET_PRIORITY_HIGH,
  urgent: TicketPriority.TICKET_PRIORITY_URGENT,
};
const STATE_FROM_PROTO: ReadonlyMap<BillingRunState, BillingRunStateJson> = new Map([
  [BillingRunState.BILLING_RUN_STATE_STARTED, 'started'],
  [BillingRunState.BILLING_RUN_STATE_LOCKED, 'locked'],
  [BillingRunState.BILLING_RUN_STATE_PRICED, 'priced'],
  [BillingRunState.BILLING_RUN_STATE_ISSUED, 'issued'],
  [BillingRunState.BILLING_RUN_STATE_COMPENSATED, 'compensated'],
]);

function invert<K extends string, V>(map: Readonly<Record<K, V>>): ReadonlyMap<V, K> {
  return new Map(Object.entries(map).map(([k, v]) => [v as V, k as K]));
}
const STATUS_FROM_PROTO = invert(STATUS_TO_PROTO);
const PRIORITY_FROM_PROTO = invert(PRIORITY_TO_PROTO);

/** A service answered with an enum value this gateway does not know: a contract mismatch. */
function unknownValue(what: string, value: number): RefrontError {
  return new RefrontError(
    'INTERNAL',
    GatewayReason.INTERNAL,
    `a service returned an unknown ${what} (${value})`,
  );
}

function fromProto<V extends string>(map: ReadonlyMap<number, V>, value: number, what: string): V {
  const json = map.get(value);
  if (json === undefined) throw unknownValue(what, value);
  return json;
}

/** JSON status → protobuf enum. */
export const ticketStatusToProto = (s: TicketStatusJson): TicketStatus => STATUS_TO_PROTO[s];
/** JSON priority → protobuf enum. */
export const ticketPriorityToProto = (p: TicketPriorityJson): TicketPriority => PRIORITY_TO_PROTO[p];

/** A timestamp as ISO 8601, or null when unset. */
export function isoOrNull(date: Date | undefined): string | null {
  return date === undefined || Number.isNaN(date.getTime()) ? null : date.toISOString();
}

/** A timestamp that must be set. */
function iso(date: Date | undefined, what: string): string {
  const s = isoOrNull(date);
  if (s === null) throw new RefrontError('INTERNAL', GatewayReason.INTERNAL, `a service returned no ${what}`);
  return s;
}

const orNull = (s: string): string | null => (s === '' ? null : s);

/**
 * The message a service must return inside its response.
 * @throws RefrontError INTERNAL when the service left it out (a contract violation).
 */
export function required<T>(value: T | undefined, what: string): T {
  if (value === undefined) {
    throw new RefrontError('INTERNAL', GatewayReason.INTERNAL, `a service returned no ${what}`);
  }
  return value;
}

export interface CustomerJson {
  id: string;
  name: string;
  hourlyRateMinor: number;
  currency: string;
  createdAt: string;
}

export function customerJson(c: Customer): CustomerJson {
  return {
    id: c.id,
    name: c.name,
    hourlyRateMinor: c.hourlyRateMinor,
    currency: c.currency,
    createdAt: iso(c.createdAt, 'customer.createdAt'),
  };
}

export interface TicketJson {
  id: string;
  customerId: string;
  title: string;
  description: string;
  status: TicketStatusJson;
  priority: TicketPriorityJson;
  category: string | null;
  summary: string | null;
  resolution: string | null;
  createdAt: string;
  updatedAt: string;
  resolvedAt: string | null;
  version: number;
}

export function ticketJson(t: Ticket): TicketJson {
  return {
    id: t.id,
    customerId: t.customerId,
    title: t.title,
    description: t.description,
    status: fromProto(STATUS_FROM_PROTO, t.status, 'ticket status'),
    priority: fromProto(PRIORITY_FROM_PROTO, t.priority, 'ticket priority'),
    category: orNull(t.category),
    summary: orNull(t.summary),
    resolution: orNull(t.resolution),
    createdAt: iso(t.createdAt, 'ticket.createdAt'),
    updatedAt: iso(t.updatedAt ?? t.createdAt, 'ticket.updatedAt'),
    resolvedAt: isoOrNull(t.resolvedAt),
    version: t.version,
  };
}

export interface TimeEntryJson {
  id: string;
  ticketId: string;
  customerId: string;
  minutes: number;
  description: string;
  workDate: string;
  createdAt: string;
}

export function timeEntryJson(e: TimeEntry): TimeEntryJson {
  return {
    id: e.id,
    ticketId: e.ticketId,
    customerId: e.customerId,
    minutes: e.minutes,
    description: e.description,
    workDate: e.workDate,
    createdAt: iso(e.createdAt, 'timeEntry.createdAt'),
  };
}

export interface SagaStepJson {
  name: string;
  outcome: string;
  detail: string | null;
  at: string | null;
}

export interface BillingRunJson {
  id: string;
  customerId: string;
  period: string;
  state: BillingRunStateJson;
  invoiceId: string | null;
  failureReason: string | null;
  steps: SagaStepJson[];
  createdAt: string;
  updatedAt: string;
}

const stepJson = (s: SagaStep): SagaStepJson => ({
  name: s.name,
  outcome: s.outcome,
  detail: orNull(s.detail),
  at: isoOrNull(s.at),
});

export function billingRunJson(r: BillingRun): BillingRunJson {
  return {
    id: r.id,
    customerId: r.customerId,
    period: r.period,
    state: fromProto(STATE_FROM_PROTO, r.state, 'billing run state'),
    invoiceId: orNull(r.invoiceId),
    failureReason: orNull(r.failureReason),
    steps: r.steps.map(stepJson),
    createdAt: iso(r.createdAt, 'billingRun.createdAt'),
    updatedAt: iso(r.updatedAt ?? r.createdAt, 'billingRun.updatedAt'),
  };
}

export interface InvoiceLineJson {
  entryId: string;
  ticketId: string;
  workDate: string;
  minutes: number;
  description: string;
  rateMinor: number;
  amountMinor: number;
}

export interface InvoiceSummaryJson {
  id: string;
  number: string;
  customerId: string;
  period: string;
  currency: string;
  totalMinor: number;
  totalMinutes: number;
  billingRunId: string;
  issuedAt: string;
}

export interface InvoiceJson extends InvoiceSummaryJson {
  lines: InvoiceLineJson[];
}

const lineJson = (l: InvoiceLine): InvoiceLineJson => ({
  entryId: l.entryId,
  ticketId: l.ticketId,
  workDate: l.workDate,
  minutes: l.minutes,
  description: l.description,
  rateMinor: l.rateMinor,
  amountMinor: l.amountMinor,
});

/** An invoice without its lines, as lists return it. */
export function invoiceSummaryJson(i: Invoice): InvoiceSummaryJson {
  return {
    id: i.id,
    number: i.number,
    customerId: i.customerId,
    period: i.period,
    currency: i.currency,
    totalMinor: i.totalMinor,
    totalMinutes: i.totalMinutes,
    billingRunId: i.billingRunId,
    issuedAt: iso(i.issuedAt, 'invoice.issuedAt'),
  };
}

export function invoiceJson(i: Invoice): InvoiceJson {
  return { ...invoiceSummaryJson(i), lines: i.lines.map(lineJson) };
}

/** A page token for JSON: null on the last page. */
export const nextPageToken = (token: string): string | null => orNull(token);
