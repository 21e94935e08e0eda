import type { Migration } from '@refront/data';

/** Schema of the time-tracking service. SQL valid on PostgreSQL 15 and on PGlite. */
export const timeTrackingMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'time entries',
    sql: `
      create table time_entries (
        seq bigint generated always as identity primary key,
        id text not null unique,
        tenant_id text not null,
        ticket_id text not null,
        customer_id text not null,
        minutes integer not null check (minutes between 1 and 1440),
        description text not null default '',
        work_date date not null,
        created_at timestamptz not null default now()
      );
      create index time_entries_by_tenant on time_entries (tenant_id, seq desc);
      create index time_entries_by_ticket on time_entries (tenant_id, ticket_id, seq desc);
    `,
  },
];
