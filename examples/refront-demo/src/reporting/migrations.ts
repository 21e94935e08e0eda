import type { Migration } from '@refront/data';

/** Schema of the reporting service. SQL valid on PostgreSQL 15 and on PGlite. */
export const reportingMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'event log and read models',
    sql: `
      -- Every event the service consumed, as received: the source the read models are rebuilt from.
      create table event_log (
        seq bigint generated always as identity primary key,
        event_id text not null unique,
        tenant_id text not null,
        type text not null,
        source text not null,
        published_at timestamptz not null,
        body bytea not null,
        received_at timestamptz not null default now()
      );
      create index event_log_by_tenant on event_log (tenant_id, seq);

      -- Read models: derived only from the events above; dropped and replayed by a rebuild.
      create table customer_hours (
        tenant_id text not null,
        customer_id text not null,
        month text not null,
        logged_minutes bigint not null,
        entries integer not null,
        primary key (tenant_id, customer_id, month)
      );
      create table customer_revenue (
        tenant_id text not null,
        customer_id text not null,
        month text not null,
        currency text not null,
        amount_minor bigint not null,
        billed_minutes bigint not null,
        invoice_count integer not null,
        primary key (tenant_id, customer_id, month, currency)
      );
      create table ticket_state (
        tenant_id text not null,
        ticket_id text not null,
        customer_id text not null default '',
        category text not null default '',
        status text not null check (status in ('open', 'resolved')),
        primary key (tenant_id, ticket_id)
      );
    `,
  },
];
