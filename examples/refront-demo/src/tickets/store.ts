import type { PageRequest, Queryable } from '@refront/data';
import {
  type Customer,
  type Ticket,
  TicketPriority,
  TicketStatus,
} from '../gen/refront/tickets/v1/tickets.js';

/** A customers row. */
interface CustomerRow {
  seq: number;
  id: string;
  name: string;
  hourly_rate_minor: number;
  currency: string;
  created_at: Date;
}

/** A tickets row. */
interface TicketRow {
  seq: number;
  id: string;
  customer_id: string;
  title: string;
  description: string;
  status: 'open' | 'resolved';
  priority: number;
  category: string;
  summary: string;
  resolution: string;
  created_at: Date;
  updated_at: Date;
  resolved_at: Date | null;
  version: number;
}

/** Filters of a ticket list. */
export interface TicketFilter {
  readonly status?: 'open' | 'resolved' | undefined;
  readonly customerId?: string | undefined;
  readonly category?: string | undefined;
}

/** Every query of the tickets service; each one is scoped to a tenant. */
export const ticketStore = {
  async insertCustomer(db: Queryable, tenant: string, c: Omit<CustomerRow, 'seq' | 'created_at'>) {
    const { rows } = await db.query<CustomerRow>(
      `insert into customers (id, tenant_id, name, hourly_rate_minor, currency)
       values ($1, $2, $3, $4, $5) returning *`,
      [c.id, tenant, c.name, c.hourly_rate_minor, c.currency],
    );
    return toCustomer(rows[0] as CustomerRow);
  },

  async customer(db: Queryable, tenant: string, id: string): Promise<Customer | undefined> {
    const { rows } = await db.query<CustomerRow>('select * from customers where tenant_id = $1 and id = $2', [
      tenant,
      id,
    ]);
    return rows[0] && toCustomer(rows[0]);
  },

  async customers(db: Queryable, tenant: string, page: PageRequest) {
    const { rows } = await db.query<CustomerRow>(
      `select * from customers where tenant_id = $1 and ($2::bigint is null or seq < $2)
       order by seq desc limit $3`,
      [tenant, page.before ?? null, page.limit + 1],
    );
    return rows;
  },

  async insertTicket(
    db: Queryable,
    tenant: string,
    t: { id: string; customerId: string; title: string; description: string; priority: TicketPriority },
  ): Promise<Ticket> {
    const { rows } = await db.query<TicketRow>(
      `insert into tickets (id, tenant_id, customer_id, title, description, priority)
       values ($1, $2, $3, $4, $5, $6) returning *`,
      [t.id, tenant, t.customerId, t.title, t.description, t.priority],
    );
    return toTicket(rows[0] as TicketRow);
  },

  /** The ticket, locked for update when `forUpdate` (inside a transaction). */
  async ticket(db: Queryable, tenant: string, id: string, forUpdate = false): Promise<Ticket | undefined> {
    const { rows } = await db.query<TicketRow>(
      `select * from tickets where tenant_id = $1 and id = $2${forUpdate ? ' for update' : ''}`,
      [tenant, id],
    );
    return rows[0] && toTicket(rows[0]);
  },

  async tickets(db: Queryable, tenant: string, filter: TicketFilter, page: PageRequest) {
    const { rows } = await db.query<TicketRow>(
      `select * from tickets
       where tenant_id = $1 and ($2::bigint is null or seq < $2)
         and ($3::text is null or status = $3) and ($4::text is null or customer_id = $4)
         and ($5::text is null or category = $5)
       order by seq desc limit $6`,
      [
        tenant,
        page.before ?? null,
        filter.status ?? null,
        filter.customerId ?? null,
        filter.category ?? null,
        page.limit + 1,
      ],
    );
    return rows;
  },

  async updateTicket(
    db: Queryable,
    tenant: string,
    id: string,
    change: {
      title?: string | undefined;
      description?: string | undefined;
      priority?: TicketPriority | undefined;
      category?: string | undefined;
      summary?: string | undefined;
    },
  ): Promise<Ticket> {
    const { rows } = await db.query<TicketRow>(
      `update tickets set
         title = coalesce($3, title), description = coalesce($4, description),
         priority = coalesce($5, priority), category = coalesce($6, category),
         summary = coalesce($7, summary), updated_at = now(), version = version + 1
       where tenant_id = $1 and id = $2 returning *`,
      [
        tenant,
        id,
        change.title ?? null,
        change.description ?? null,
        change.priority ?? null,
        change.category ?? null,
        change.summary ?? null,
      ],
    );
    return toTicket(rows[0] as TicketRow);
  },

  async resolveTicket(db: Queryable, tenant: string, id: string, resolution: string): Promise<Ticket> {
    const { rows } = await db.query<TicketRow>(
      `update tickets set status = 'resolved', resolution = $3, resolved_at = now(), updated_at = now(),
         version = version + 1
       where tenant_id = $1 and id = $2 returning *`,
      [tenant, id, resolution],
    );
    return toTicket(rows[0] as TicketRow);
  },
};

/** Maps a row to the contract's Customer. */
export function toCustomer(r: CustomerRow): Customer {
  return {
    id: r.id,
    name: r.name,
    hourlyRateMinor: Number(r.hourly_rate_minor),
    currency: r.currency,
    createdAt: r.created_at,
  };
}

/** Maps a row to the contract's Ticket. */
export function toTicket(r: TicketRow): Ticket {
  return {
    id: r.id,
    customerId: r.customer_id,
    title: r.title,
    description: r.description,
    status: r.status === 'open' ? TicketStatus.TICKET_STATUS_OPEN : TicketStatus.TICKET_STATUS_RESOLVED,
    priority: r.priority as TicketPriority,
    category: r.category,
    summary: r.summary,
    resolution: r.resolution,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    resolvedAt: r.resolved_at ?? undefined,
    version: r.version,
  };
}

/** Whether `p` is a priority a caller may set. */
export function isPriority(p: number): p is TicketPriority {
  return p >= TicketPriority.TICKET_PRIORITY_LOW && p <= TicketPriority.TICKET_PRIORITY_URGENT;
}
