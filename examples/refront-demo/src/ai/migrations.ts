import type { Migration } from '@refront/data';

/** Schema of the AI service. SQL valid on PostgreSQL 15 and on PGlite. */
export const aiMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'classifications',
    sql: `
      create table classifications (
        seq bigint generated always as identity primary key,
        tenant_id text not null,
        ticket_id text not null,
        category text not null,
        urgency smallint not null,
        summary text not null,
        confidence double precision not null,
        provider text not null,
        latency_ms double precision not null,
        event_id text not null,
        classified_at timestamptz not null default now(),
        unique (tenant_id, ticket_id)
      );
    `,
  },
];
