import { type TicketClassified, Urgency } from '../gen/refront/ai/v1/events.js';
import type { InvoiceIssued } from '../gen/refront/invoicing/v1/invoicing.js';
import type { TicketResolved } from '../gen/refront/tickets/v1/events.js';

/** The facts a notification tells about (stored as text). */
export type Kind = 'invoice_issued' | 'ticket_urgent' | 'ticket_resolved';

/** Who gets the mail of a kind, for a tenant. */
export type Recipients = (tenant: string, kind: Kind) => string;

const MAILBOX: Record<Kind, string> = {
  invoice_issued: 'billing',
  ticket_urgent: 'oncall',
  ticket_resolved: 'support',
};

/**
 * Default recipients: a role mailbox of the tenant's domain (`billing@acme.example` for invoices,
 * `oncall@` for urgent tickets, `support@` for resolved ones). Real deployments pass their own.
 */
export const defaultRecipients: Recipients = (tenant, kind) =>
  `${MAILBOX[kind]}@${tenant.toLowerCase().replace(/[^a-z0-9-]+/g, '-')}.example`;

/** Subject and body of a mail. */
export interface Content {
  readonly subject: string;
  readonly body: string;
}

/** Formats minor units: 45917, EUR → "EUR 459.17" (currencies with 2 decimals). */
export function formatMoney(minor: number, currency: string): string {
  const sign = minor < 0 ? '-' : '';
  const abs = Math.abs(minor);
  return `${currency} ${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, '0')}`;
}

/** The mail for an issued invoice. */
export function invoiceIssuedMail(e: InvoiceIssued): Content {
  const hours = `${Math.floor(e.totalMinutes / 60)} h ${String(e.totalMinutes % 60).padStart(2, '0')} min`;
  return {
    subject: `Invoice ${e.number} issued: ${formatMoney(e.totalMinor, e.currency)}`,
    body: [
      `Invoice ${e.number} for customer ${e.customerId}, period ${e.period}, was issued.`,
      `${e.lineCount} line(s), ${hours}, total ${formatMoney(e.totalMinor, e.currency)}.`,
    ].join('\n'),
  };
}

/** The mail for a ticket classified as urgent. */
export function urgentTicketMail(e: TicketClassified): Content {
  const category = e.category === '' ? 'unclassified' : e.category;
  return {
    subject: `Urgent ticket ${e.ticketId.slice(0, 8)} (${category})`,
    body: [`Ticket ${e.ticketId} needs an answer now.`, `Summary: ${e.summary || '(none)'}`].join('\n'),
  };
}

/** The mail for a resolved ticket. */
export function ticketResolvedMail(e: TicketResolved): Content {
  return {
    subject: `Ticket ${e.ticketId.slice(0, 8)} resolved`,
    body: [
      `Ticket ${e.ticketId} of customer ${e.customerId} was resolved.`,
      `Resolution: ${e.resolution || '(none)'}`,
    ].join('\n'),
  };
}

/** Whether a classification calls for an urgent notification. */
export function isUrgent(e: TicketClassified): boolean {
  return e.urgency === Urgency.URGENCY_URGENT;
}
