import {
  type CustomerJson,
  customerJson,
  nextPageToken,
  required,
  type TicketJson,
  type TicketPriorityJson,
  type TicketStatusJson,
  ticketJson,
  ticketPriorityToProto,
  ticketStatusToProto,
} from '../json.js';
import { defineRoute, type Route } from '../route.js';
import { BODIES, FILTERS, ID_PARAMS, page, pagedQuery, ref } from '../schemas.js';

interface IdParams {
  id: string;
}
interface Paging {
  pageSize: number;
  pageToken?: string;
}
interface TicketFilters extends Paging {
  status?: TicketStatusJson;
  customerId?: string;
  category?: string;
}
interface TicketFields {
  title?: string;
  description?: string;
  priority?: TicketPriorityJson;
}

/** Customers and tickets: the tickets service. */
export const ticketRoutes: readonly Route[] = [
  defineRoute<
    { name: string; hourlyRateMinor: number; currency: string },
    undefined,
    undefined,
    CustomerJson
  >({
    method: 'POST',
    url: '/customers',
    operationId: 'createCustomer',
    summary: 'Create a customer with the hourly rate it is billed at',
    tag: 'customers',
    status: 201,
    body: BODIES.createCustomer,
    response: ref('Customer'),
    location: (c) => `/customers/${encodeURIComponent(c.id)}`,
    async handler({ body, call }, { tickets }) {
      const { customer } = await tickets.createCustomer(body, call);
      return customerJson(required(customer, 'customer'));
    },
  }),
  defineRoute<undefined, Paging>({
    method: 'GET',
    url: '/customers',
    operationId: 'listCustomers',
    summary: "Page through the tenant's customers, oldest first",
    tag: 'customers',
    querystring: pagedQuery(),
    response: page('customers', 'Customer'),
    async handler({ query, call }, { tickets }) {
      const res = await tickets.listCustomers(query, call);
      return { customers: res.customers.map(customerJson), nextPageToken: nextPageToken(res.nextPageToken) };
    },
  }),
  defineRoute<undefined, undefined, IdParams>({
    method: 'GET',
    url: '/customers/:id',
    operationId: 'getCustomer',
    summary: 'Get one customer',
    tag: 'customers',
    params: ID_PARAMS,
    response: ref('Customer'),
    async handler({ params, call }, { tickets }) {
      const { customer } = await tickets.getCustomer({ id: params.id }, call);
      return customerJson(required(customer, 'customer'));
    },
  }),
  defineRoute<{ customerId: string; title: string } & TicketFields, undefined, undefined, TicketJson>({
    method: 'POST',
    url: '/tickets',
    operationId: 'createTicket',
    summary: 'Open a ticket for a customer',
    tag: 'tickets',
    status: 201,
    body: BODIES.createTicket,
    response: ref('Ticket'),
    location: (t) => `/tickets/${encodeURIComponent(t.id)}`,
    async handler({ body, call }, { tickets }) {
      const { ticket } = await tickets.createTicket(
        {
          customerId: body.customerId,
          title: body.title,
          description: body.description ?? '',
          ...(body.priority ? { priority: ticketPriorityToProto(body.priority) } : {}),
        },
        call,
      );
      return ticketJson(required(ticket, 'ticket'));
    },
  }),
  defineRoute<undefined, TicketFilters>({
    method: 'GET',
    url: '/tickets',
    operationId: 'listTickets',
    summary: 'Page through tickets, newest first, optionally filtered',
    tag: 'tickets',
    querystring: pagedQuery(FILTERS.tickets),
    response: page('tickets', 'Ticket'),
    async handler({ query, call }, { tickets }) {
      const res = await tickets.listTickets(
        {
          pageSize: query.pageSize,
          pageToken: query.pageToken ?? '',
          customerId: query.customerId ?? '',
          category: query.category ?? '',
          ...(query.status ? { status: ticketStatusToProto(query.status) } : {}),
        },
        call,
      );
      return { tickets: res.tickets.map(ticketJson), nextPageToken: nextPageToken(res.nextPageToken) };
    },
  }),
  defineRoute<undefined, undefined, IdParams>({
    method: 'GET',
    url: '/tickets/:id',
    operationId: 'getTicket',
    summary: 'Get one ticket',
    tag: 'tickets',
    params: ID_PARAMS,
    response: ref('Ticket'),
    async handler({ params, call }, { tickets }) {
      const { ticket } = await tickets.getTicket({ id: params.id }, call);
      return ticketJson(required(ticket, 'ticket'));
    },
  }),
  defineRoute<TicketFields, undefined, IdParams>({
    method: 'PATCH',
    url: '/tickets/:id',
    operationId: 'updateTicket',
    summary: 'Change the title, description or priority of an open ticket (409 once resolved)',
    tag: 'tickets',
    params: ID_PARAMS,
    body: BODIES.updateTicket,
    response: ref('Ticket'),
    async handler({ params, body, call }, { tickets }) {
      const { ticket } = await tickets.updateTicket(
        {
          id: params.id,
          ...(body.title !== undefined ? { title: body.title } : {}),
          ...(body.description !== undefined ? { description: body.description } : {}),
          ...(body.priority !== undefined ? { priority: ticketPriorityToProto(body.priority) } : {}),
        },
        call,
      );
      return ticketJson(required(ticket, 'ticket'));
    },
  }),
  defineRoute<{ resolution?: string }, undefined, IdParams>({
    method: 'POST',
    url: '/tickets/:id/resolve',
    operationId: 'resolveTicket',
    summary: 'Resolve a ticket (409 when it is already resolved)',
    tag: 'tickets',
    params: ID_PARAMS,
    body: BODIES.resolveTicket,
    bodyOptional: true,
    response: ref('Ticket'),
    async handler({ params, body, call }, { tickets }) {
      const { ticket } = await tickets.resolveTicket(
        { id: params.id, resolution: body.resolution ?? '' },
        call,
      );
      return ticketJson(required(ticket, 'ticket'));
    },
  }),
];
