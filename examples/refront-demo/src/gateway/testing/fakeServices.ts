/**
 * Small in-memory, tenant-aware fakes of tickets, time-tracking and invoicing for the gateway's
 * tests: they keep the contracts' semantics (NOT_FOUND across tenants, FAILED_PRECONDITION for a
 * resolved ticket, paging) and record what reached them (tenant, caller, trace id).
 */
import { randomUUID } from 'node:crypto';
import {
  type Channel,
  createClient,
  currentContext,
  type HandlerContext,
  type InProcessNetwork,
  type Logger,
  RefrontError,
} from '@refront/core';
import {
  type BillingRun,
  BillingRunState,
  type Invoice,
  InvoicingServiceDefinition,
} from '../../gen/refront/invoicing/v1/invoicing.js';
import {
  type Customer,
  type Ticket,
  TicketPriority,
  TicketStatus,
  TicketsServiceDefinition,
} from '../../gen/refront/tickets/v1/tickets.js';
import {
  type TimeEntry,
  TimeTrackingServiceDefinition,
} from '../../gen/refront/timetracking/v1/timetracking.js';

/** What one service call looked like when it arrived. */
export interface SeenCall {
  readonly method: string;
  readonly tenant: string | undefined;
  readonly caller: string | undefined;
  /** The `x-refront-roles` metadata the gateway forwarded, if any. */
  readonly roles: string | undefined;
  readonly traceId: string;
}

/** Test controls and observations. */
export interface FakeControl {
  readonly seen: SeenCall[];
  /** Methods (by name) that wait until their deadline or cancellation instead of answering. */
  readonly hang: Set<string>;
  /** Methods (by name) that throw a plain Error (an unexpected failure). */
  readonly crash: Set<string>;
  /** Methods whose held call was aborted (deadline or the caller went away). */
  readonly aborted: string[];
  /** Lets every call held by `hang` go on and answer normally. */
  releaseHung(): void;
}

/** Records per tenant. */
class TenantStore<T extends { id: string }> {
  private readonly byTenant = new Map<string, Map<string, T>>();
  of(tenant: string): Map<string, T> {
    let m = this.byTenant.get(tenant);
    if (!m) {
      m = new Map();
      this.byTenant.set(tenant, m);
    }
    return m;
  }
  get(tenant: string, id: string, what: string): T {
    const v = this.of(tenant).get(id);
    if (!v)
      throw new RefrontError(
        'NOT_FOUND',
        `FAKE_${what.toUpperCase()}_NOT_FOUND`,
        `${what} ${id} does not exist`,
      );
    return v;
  }
}

function pageOf<T>(items: readonly T[], pageSize: number, pageToken: string): { items: T[]; next: string } {
  const size = pageSize === 0 ? 20 : pageSize;
  const start = pageToken === '' ? 0 : Number(pageToken);
  const slice = items.slice(start, start + size);
  return { items: slice, next: start + size < items.length ? String(start + size) : '' };
}

function enter(control: FakeControl, method: string, ctx: HandlerContext): Promise<string> {
  control.seen.push({
    method,
    tenant: ctx.tenant,
    caller: ctx.caller,
    roles: ctx.metadata['x-refront-roles'],
    traceId: currentContext()?.traceId ?? '',
  });
  if (control.crash.has(method)) return Promise.reject(new Error('database password is hunter2'));
  if (!ctx.tenant) return Promise.reject(new RefrontError('UNAUTHENTICATED', 'FAKE_NO_TENANT', 'no tenant'));
  const tenant = ctx.tenant;
  if (!control.hang.has(method)) return Promise.resolve(tenant);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      control.aborted.push(method);
      reject(ctx.signal.reason);
    };
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    held.get(control)?.push(() => {
      ctx.signal.removeEventListener('abort', onAbort);
      resolve(tenant);
    });
  });
}

/** Calls held by `hang`, per control. */
const held = new WeakMap<FakeControl, (() => void)[]>();

function createControl(): FakeControl {
  const control: FakeControl = {
    seen: [],
    aborted: [],
    hang: new Set(),
    crash: new Set(),
    releaseHung: () => {
      for (const release of held.get(control)?.splice(0) ?? []) release();
    },
  };
  held.set(control, []);
  return control;
}

function ticketsImpl(control: FakeControl) {
  const customers = new TenantStore<Customer>();
  const tickets = new TenantStore<Ticket>();
  const openTicket = (tenant: string, id: string): Ticket => {
    const t = tickets.get(tenant, id, 'ticket');
    if (t.status === TicketStatus.TICKET_STATUS_RESOLVED) {
      throw new RefrontError('FAILED_PRECONDITION', 'FAKE_TICKET_RESOLVED', `ticket ${id} is resolved`);
    }
    return t;
  };
  const change = (t: Ticket, patch: Partial<Ticket>): Ticket => {
    const next = { ...t, ...patch, updatedAt: new Date(), version: t.version + 1 };
    return next;
  };
  return {
    async createCustomer(
      req: { name: string; hourlyRateMinor: number; currency: string },
      ctx: HandlerContext,
    ) {
      const tenant = await enter(control, 'CreateCustomer', ctx);
      if (req.name.trim() === '') {
        throw new RefrontError('INVALID_ARGUMENT', 'FAKE_INVALID_CUSTOMER', 'the customer is invalid', {
          details: { fieldViolations: [{ field: 'name', description: 'must not be blank' }] },
        });
      }
      const customer: Customer = { id: randomUUID(), ...req, createdAt: new Date() };
      customers.of(tenant).set(customer.id, customer);
      return { customer };
    },
    async getCustomer(req: { id: string }, ctx: HandlerContext) {
      const tenant = await enter(control, 'GetCustomer', ctx);
      return { customer: customers.get(tenant, req.id, 'customer') };
    },
    async listCustomers(req: { pageSize: number; pageToken: string }, ctx: HandlerContext) {
      const tenant = await enter(control, 'ListCustomers', ctx);
      const page = pageOf([...customers.of(tenant).values()], req.pageSize, req.pageToken);
      return { customers: page.items, nextPageToken: page.next };
    },
    async createTicket(
      req: { customerId: string; title: string; description: string; priority: TicketPriority },
      ctx: HandlerContext,
    ) {
      const tenant = await enter(control, 'CreateTicket', ctx);
      customers.get(tenant, req.customerId, 'customer');
      const now = new Date();
      const ticket: Ticket = {
        id: randomUUID(),
        customerId: req.customerId,
        title: req.title,
        description: req.description,
        status: TicketStatus.TICKET_STATUS_OPEN,
        priority: req.priority || TicketPriority.TICKET_PRIORITY_NORMAL,
        category: '',
        summary: '',
        resolution: '',
        createdAt: now,
        updatedAt: now,
        resolvedAt: undefined,
        version: 1,
      };
      tickets.of(tenant).set(ticket.id, ticket);
      return { ticket };
    },
    async getTicket(req: { id: string }, ctx: HandlerContext) {
      const tenant = await enter(control, 'GetTicket', ctx);
      return { ticket: tickets.get(tenant, req.id, 'ticket') };
    },
    async listTickets(
      req: {
        pageSize: number;
        pageToken: string;
        status: TicketStatus;
        customerId: string;
        category: string;
      },
      ctx: HandlerContext,
    ) {
      const tenant = await enter(control, 'ListTickets', ctx);
      const all = [...tickets.of(tenant).values()]
        .reverse()
        .filter((t) => req.status === TicketStatus.TICKET_STATUS_UNSPECIFIED || t.status === req.status)
        .filter((t) => req.customerId === '' || t.customerId === req.customerId)
        .filter((t) => req.category === '' || t.category === req.category);
      const page = pageOf(all, req.pageSize, req.pageToken);
      return { tickets: page.items, nextPageToken: page.next };
    },
    async updateTicket(
      req: {
        id: string;
        title?: string | undefined;
        description?: string | undefined;
        priority?: TicketPriority | undefined;
      },
      ctx: HandlerContext,
    ) {
      const tenant = await enter(control, 'UpdateTicket', ctx);
      const t = openTicket(tenant, req.id);
      const next = change(t, {
        ...(req.title !== undefined ? { title: req.title } : {}),
        ...(req.description !== undefined ? { description: req.description } : {}),
        ...(req.priority !== undefined ? { priority: req.priority } : {}),
      });
      tickets.of(tenant).set(t.id, next);
      return { ticket: next };
    },
    async resolveTicket(req: { id: string; resolution: string }, ctx: HandlerContext) {
      const tenant = await enter(control, 'ResolveTicket', ctx);
      const t = openTicket(tenant, req.id);
      const next = change(t, {
        status: TicketStatus.TICKET_STATUS_RESOLVED,
        resolution: req.resolution,
        resolvedAt: new Date(),
      });
      tickets.of(tenant).set(t.id, next);
      return { ticket: next };
    },
  };
}

function timeTrackingImpl(control: FakeControl, channel: Channel) {
  const tickets = createClient(TicketsServiceDefinition, channel, { caller: 'time-tracking' });
  const entries = new TenantStore<TimeEntry>();
  return {
    async logTime(
      req: { ticketId: string; minutes: number; description: string; workDate: string },
      ctx: HandlerContext,
    ) {
      const tenant = await enter(control, 'LogTime', ctx);
      const { ticket } = await tickets.getTicket({ id: req.ticketId });
      if (!ticket) throw new RefrontError('INTERNAL', 'FAKE_NO_TICKET', 'no ticket in response');
      if (ticket.status === TicketStatus.TICKET_STATUS_RESOLVED) {
        throw new RefrontError(
          'FAILED_PRECONDITION',
          'FAKE_TICKET_RESOLVED',
          `ticket ${ticket.id} is resolved`,
        );
      }
      const entry: TimeEntry = {
        id: randomUUID(),
        ticketId: ticket.id,
        customerId: ticket.customerId,
        minutes: req.minutes,
        description: req.description,
        workDate: req.workDate || new Date().toISOString().slice(0, 10),
        createdAt: new Date(),
      };
      entries.of(tenant).set(entry.id, entry);
      return { entry };
    },
    async listTimeEntries(
      req: { pageSize: number; pageToken: string; ticketId: string; customerId: string },
      ctx: HandlerContext,
    ) {
      const tenant = await enter(control, 'ListTimeEntries', ctx);
      const all = [...entries.of(tenant).values()]
        .reverse()
        .filter((e) => req.ticketId === '' || e.ticketId === req.ticketId)
        .filter((e) => req.customerId === '' || e.customerId === req.customerId);
      const page = pageOf(all, req.pageSize, req.pageToken);
      return { entries: page.items, nextPageToken: page.next };
    },
  };
}

function invoicingImpl(control: FakeControl, channel: Channel) {
  const tickets = createClient(TicketsServiceDefinition, channel, { caller: 'invoicing' });
  const time = createClient(TimeTrackingServiceDefinition, channel, { caller: 'invoicing' });
  const runs = new TenantStore<BillingRun>();
  const invoices = new TenantStore<Invoice>();
  return {
    async closeBillingPeriod(req: { customerId: string; period: string }, ctx: HandlerContext) {
      const tenant = await enter(control, 'CloseBillingPeriod', ctx);
      const { customer } = await tickets.getCustomer({ id: req.customerId });
      const { entries } = await time.listTimeEntries({ customerId: req.customerId, pageSize: 100 });
      const billable = entries.filter((e) => e.workDate.startsWith(req.period));
      if (!customer || billable.length === 0) {
        throw new RefrontError(
          'FAILED_PRECONDITION',
          'FAKE_NOTHING_TO_BILL',
          `nothing to bill for ${req.period}`,
        );
      }
      const now = new Date();
      const lines = billable.map((e) => ({
        entryId: e.id,
        ticketId: e.ticketId,
        workDate: e.workDate,
        minutes: e.minutes,
        description: e.description,
        rateMinor: customer.hourlyRateMinor,
        amountMinor: Math.round((e.minutes * customer.hourlyRateMinor) / 60),
      }));
      const runId = randomUUID();
      const invoice: Invoice = {
        id: randomUUID(),
        number: `INV-${String(invoices.of(tenant).size + 1).padStart(6, '0')}`,
        customerId: req.customerId,
        period: req.period,
        currency: customer.currency,
        totalMinor: lines.reduce((s, l) => s + l.amountMinor, 0),
        totalMinutes: lines.reduce((s, l) => s + l.minutes, 0),
        lines,
        billingRunId: runId,
        issuedAt: now,
      };
      const steps = ['lock', 'price', 'issue', 'publish'].map((name) => ({
        name,
        outcome: 'done',
        detail: '',
        at: now,
      }));
      const run: BillingRun = {
        id: runId,
        customerId: req.customerId,
        period: req.period,
        state: BillingRunState.BILLING_RUN_STATE_ISSUED,
        invoiceId: invoice.id,
        failureReason: '',
        steps,
        createdAt: now,
        updatedAt: now,
      };
      runs.of(tenant).set(run.id, run);
      invoices.of(tenant).set(invoice.id, invoice);
      return { run, invoice };
    },
    async getBillingRun(req: { id: string }, ctx: HandlerContext) {
      const tenant = await enter(control, 'GetBillingRun', ctx);
      return { run: runs.get(tenant, req.id, 'billing run') };
    },
    async getInvoice(req: { id: string }, ctx: HandlerContext) {
      const tenant = await enter(control, 'GetInvoice', ctx);
      return { invoice: invoices.get(tenant, req.id, 'invoice') };
    },
    async listInvoices(
      req: { pageSize: number; pageToken: string; customerId: string },
      ctx: HandlerContext,
    ) {
      const tenant = await enter(control, 'ListInvoices', ctx);
      const all = [...invoices.of(tenant).values()]
        .reverse()
        .filter((i) => req.customerId === '' || i.customerId === req.customerId)
        .map((i) => ({ ...i, lines: [] }));
      const page = pageOf(all, req.pageSize, req.pageToken);
      return { invoices: page.items, nextPageToken: page.next };
    },
  };
}

/** The three fake services on an in-process network, one server each. */
export interface FakeServices {
  readonly control: FakeControl;
  /** Stops one service (its calls then fail UNAVAILABLE). */
  stop(service: 'tickets' | 'time-tracking' | 'invoicing'): Promise<void>;
  close(): Promise<void>;
}

/** Starts the fakes on `network`. */
export async function startFakeServices(network: InProcessNetwork, logger: Logger): Promise<FakeServices> {
  const control = createControl();
  const channel = network.channel();
  const servers = {
    tickets: network.createServer({ service: 'tickets', logger }),
    'time-tracking': network.createServer({ service: 'time-tracking', logger }),
    invoicing: network.createServer({ service: 'invoicing', logger }),
  };
  servers.tickets.add(TicketsServiceDefinition, ticketsImpl(control));
  servers['time-tracking'].add(TimeTrackingServiceDefinition, timeTrackingImpl(control, channel));
  servers.invoicing.add(InvoicingServiceDefinition, invoicingImpl(control, channel));
  for (const s of Object.values(servers)) await s.start();
  return {
    control,
    stop: (service) => servers[service].close(),
    close: async () => {
      await Promise.all(Object.values(servers).map((s) => s.close()));
    },
  };
}
