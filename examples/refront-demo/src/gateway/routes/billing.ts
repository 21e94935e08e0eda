import {
  type BillingRunJson,
  billingRunJson,
  invoiceJson,
  invoiceSummaryJson,
  nextPageToken,
  required,
} from '../json.js';
import { defineRoute, type Route } from '../route.js';
import { BODIES, FILTERS, ID_PARAMS, page, pagedQuery, ref } from '../schemas.js';

interface InvoiceFilters {
  pageSize: number;
  pageToken?: string;
  customerId?: string;
}

/** Billing runs and invoices: the invoicing service. */
export const billingRoutes: readonly Route[] = [
  defineRoute<{ customerId: string; period: string }, undefined, undefined, { run: BillingRunJson }>({
    method: 'POST',
    url: '/billing-runs',
    operationId: 'closeBillingPeriod',
    summary:
      "Close a customer's billing period: runs the billing saga and returns the run in its final state " +
      'with the invoice when issued (409 when there is nothing to bill)',
    tag: 'billing',
    role: 'admin',
    status: 201,
    body: BODIES.closeBillingPeriod,
    response: {
      type: 'object',
      properties: {
        run: ref('BillingRun'),
        invoice: { anyOf: [ref('Invoice'), { type: 'null' }], description: 'Set when the run was issued.' },
      },
      required: ['run', 'invoice'],
    },
    location: (r) => `/billing-runs/${encodeURIComponent(r.run.id)}`,
    async handler({ body, call }, { invoicing }) {
      const res = await invoicing.closeBillingPeriod(body, call);
      return {
        run: billingRunJson(required(res.run, 'billing run')),
        invoice: res.invoice ? invoiceJson(res.invoice) : null,
      };
    },
  }),
  defineRoute<undefined, undefined, { id: string }>({
    method: 'GET',
    url: '/billing-runs/:id',
    operationId: 'getBillingRun',
    summary: 'Get a billing run and its saga steps',
    tag: 'billing',
    params: ID_PARAMS,
    response: ref('BillingRun'),
    async handler({ params, call }, { invoicing }) {
      const { run } = await invoicing.getBillingRun({ id: params.id }, call);
      return billingRunJson(required(run, 'billing run'));
    },
  }),
  defineRoute<undefined, InvoiceFilters>({
    method: 'GET',
    url: '/invoices',
    operationId: 'listInvoices',
    summary: 'Page through invoices (without lines), newest first',
    tag: 'billing',
    querystring: pagedQuery(FILTERS.invoices),
    response: page('invoices', 'InvoiceSummary'),
    async handler({ query, call }, { invoicing }) {
      const res = await invoicing.listInvoices(
        { pageSize: query.pageSize, pageToken: query.pageToken ?? '', customerId: query.customerId ?? '' },
        call,
      );
      return {
        invoices: res.invoices.map(invoiceSummaryJson),
        nextPageToken: nextPageToken(res.nextPageToken),
      };
    },
  }),
  defineRoute<undefined, undefined, { id: string }>({
    method: 'GET',
    url: '/invoices/:id',
    operationId: 'getInvoice',
    summary: 'Get one invoice with its lines',
    tag: 'billing',
    params: ID_PARAMS,
    response: ref('Invoice'),
    async handler({ params, call }, { invoicing }) {
      const { invoice } = await invoicing.getInvoice({ id: params.id }, call);
      return invoiceJson(required(invoice, 'invoice'));
    },
  }),
];
