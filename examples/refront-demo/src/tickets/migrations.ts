import type { Migration } from '@refront/data';

/** Schema of the tickets service. SQL valid on PostgreSQL 15 and on PGlite. */
export const ticketsMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'customers and tickets',
    sql: `
      create table customers (
        seq bigint generated always as identity primary key,
        id text not null unique,
        tenant_id text not null,
        name text not null,
        hourly_rate_minor bigint not null check (hourly_rate_minor >= 0),
        currency text not null,
        created_at timestamptz not null default now()
      );
      create index customers_by_tenant on customers (tenant_id, seq);

      create table tickets (
        seq bigint generated always as identity primary key,
        id text not null unique,
        tenant_id text not null,
        customer_id text not null references customers (id),
        title text not null,
        description text not null default '',
        status text not null default 'open' check (status in ('open', 'resolved')),
        priority smallint not null,
        category text not null default '',
        summary text not null default '',
        resolution text not null default '',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now(),
        resolved_at timestamptz,
        version integer not null default 1
      );
      create index tickets_by_tenant on tickets (tenant_id, seq desc);
      create index tickets_by_customer on tickets (tenant_id, customer_id, seq desc);
    `,
  },
];
