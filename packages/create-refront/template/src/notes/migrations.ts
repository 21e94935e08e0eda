import type { Migration } from '@refront/data';

/**
 * The notes service's schema, one version at a time. An applied migration must never change (the
 * app refuses to start when one did): add a new version instead. SQL valid on PostgreSQL and PGlite.
 */
export const notesMigrations: readonly Migration[] = [
  {
    version: 1,
    name: 'notes and stats',
    sql: `
      create table notes (
        seq bigint generated always as identity primary key,
        id text not null unique,
        title text not null,
        body text not null default '',
        created_at timestamptz not null default now()
      );
      create table note_stats (
        id integer primary key check (id = 1),
        notes integer not null,
        words integer not null
      );
      insert into note_stats (id, notes, words) values (1, 0, 0);
    `,
  },
];
