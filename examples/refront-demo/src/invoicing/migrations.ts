import type { Migration } from '@refront/data';

/** Schema of the invoicing service. SQL valid on PostgreSQL 15 and on PGlite. */
export const invoicingMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'billable entries, billing runs, invoices',
    sql: `
      create table billable_entries (
        entry_id text primary key,
        tenant_id text not null,
        ticket_id text not null,
        customer_id text not null,
        minutes integer not null,
        description text not null default '',
        work_date date not null,
        billing_run_id text,
        rate_minor bigint,
        amount_minor bigint,
        invoice_id text,
        received_at timestamptz not null default now()
      );
      create index billable_by_customer on billable_entries (tenant_id, customer_id, work_date);

      create table billing_runs (
        seq bigint generated always as identity primary key,
        id text not null unique,
        tenant_id text not null,
        customer_id text not null,
        period text not null,
        state text not null,
        invoice_id text,
        failure_reason text not null default '',
        created_at timestamptz not null default now(),
        updated_at timestamptz not null default now()
      );
      create index billing_runs_unfinished on billing_runs (state, updated_at);

      create table billing_run_steps (
        run_id text not null references billing_runs (id),
        n integer not null,
        name text not null,
        outcome text not null,
        detail text not null default '',
        at timestamptz not null default now(),
        primary key (run_id, n)
      );

      create table invoice_numbers (
        tenant_id text primary key,
        last integer not null
      );

      create table invoices (
        seq bigint generated always as identity primary key,
        id text not null unique,
        tenant_id text not null,
        number text not null,
        customer_id text not null,
        period text not null,
        currency text not null,
        total_minor bigint not null,
        total_minutes integer not null,
        billing_run_id text not null,
        issued_at timestamptz not null default now(),
        unique (tenant_id, number)
      );
      create index invoices_by_tenant on invoices (tenant_id, seq desc);
    `,
  },
];
