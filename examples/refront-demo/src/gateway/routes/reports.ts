import type {
  GetCustomerReportResponse,
  GetTicketReportResponse,
} from '../../gen/refront/reporting/v1/reporting.js';
import { nextPageToken } from '../json.js';
import { defineRoute, type Route } from '../route.js';
import { ID, type JsonSchema } from '../schemas.js';

const MONTH = { type: 'string', pattern: '^\\d{4}-(0[1-9]|1[0-2])$', examples: ['2025-03'] };
const REVENUE: JsonSchema = {
  type: 'object',
  description: 'What was invoiced in one currency (from InvoiceIssued).',
  properties: {
    currency: { type: 'string' },
    amountMinor: { type: 'integer', description: 'Sum of the invoice totals, in minor units.' },
    billedMinutes: { type: 'integer' },
    invoiceCount: { type: 'integer' },
  },
  required: ['currency', 'amountMinor', 'billedMinutes', 'invoiceCount'],
};
const CUSTOMER_REPORT: JsonSchema = {
  type: 'object',
  description: "One customer's hours (from TimeLogged) and revenue (from InvoiceIssued).",
  properties: {
    customerId: { type: 'string' },
    loggedMinutes: { type: 'integer' },
    revenue: { type: 'array', items: REVENUE },
    months: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          month: { type: 'string' },
          loggedMinutes: { type: 'integer' },
          revenue: { type: 'array', items: REVENUE },
        },
        required: ['month', 'loggedMinutes', 'revenue'],
      },
    },
  },
  required: ['customerId', 'loggedMinutes', 'revenue', 'months'],
};

interface CustomerReportQuery {
  pageSize: number;
  pageToken?: string;
  customerId?: string;
  fromMonth?: string;
  toMonth?: string;
}

/** The reporting service: read models built from events (they lag the events a little). */
export const reportRoutes: readonly Route[] = [
  defineRoute<
    undefined,
    CustomerReportQuery,
    undefined,
    { customers: GetCustomerReportResponse['customers']; nextPageToken: string | null }
  >({
    method: 'GET',
    url: '/reports/customers',
    operationId: 'getCustomerReport',
    summary: 'Hours and revenue per customer and per month, ordered by customer id',
    tag: 'reports',
    querystring: {
      type: 'object',
      properties: {
        pageSize: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
        pageToken: { type: 'string', minLength: 1, maxLength: 512 },
        customerId: ID,
        fromMonth: { ...MONTH, description: 'First month, YYYY-MM.' },
        toMonth: { ...MONTH, description: 'Last month, YYYY-MM.' },
      },
      additionalProperties: false,
    },
    response: {
      type: 'object',
      properties: {
        customers: { type: 'array', items: CUSTOMER_REPORT },
        nextPageToken: { type: ['string', 'null'] },
      },
      required: ['customers', 'nextPageToken'],
    },
    async handler({ query, call }, { reporting }) {
      const res = await reporting.getCustomerReport(
        {
          pageSize: query.pageSize,
          pageToken: query.pageToken ?? '',
          customerId: query.customerId ?? '',
          fromMonth: query.fromMonth ?? '',
          toMonth: query.toMonth ?? '',
        },
        call,
      );
      return { customers: res.customers, nextPageToken: nextPageToken(res.nextPageToken) };
    },
  }),
  defineRoute<undefined, undefined, undefined, GetTicketReportResponse>({
    method: 'GET',
    url: '/reports/tickets',
    operationId: 'getTicketReport',
    summary: 'Open tickets per category',
    tag: 'reports',
    response: {
      type: 'object',
      properties: {
        categories: {
          type: 'array',
          items: {
            type: 'object',
            properties: { category: { type: 'string' }, openTickets: { type: 'integer' } },
            required: ['category', 'openTickets'],
          },
        },
        openTickets: { type: 'integer' },
        resolvedTickets: { type: 'integer' },
      },
      required: ['categories', 'openTickets', 'resolvedTickets'],
    },
    handler: ({ call }, { reporting }) => reporting.getTicketReport({}, call),
  }),
  defineRoute<Record<string, never>, undefined, undefined>({
    method: 'POST',
    url: '/reports/rebuild',
    operationId: 'rebuildReadModels',
    summary:
      "Drop the tenant's read models and rebuild them from the reporting service's event log " +
      '(other tenants are neither touched nor held up)',
    tag: 'reports',
    role: 'admin',
    body: { type: 'object', properties: {}, additionalProperties: false },
    bodyOptional: true,
    response: {
      type: 'object',
      properties: { eventsReplayed: { type: 'integer' }, durationMs: { type: 'number' } },
      required: ['eventsReplayed', 'durationMs'],
    },
    handler: ({ call }, { reporting }) => reporting.rebuildReadModels({}, call),
  }),
];
