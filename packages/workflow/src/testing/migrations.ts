import type { Migration } from '@refront/data';
import { workflowMigrations } from '../migrations.js';

/**
 * The test tables, then the workflow journal. `effects` and `invocations` have no unique key, so
 * a step that ran twice shows as two rows.
 */
export const TEST_MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'effects',
    sql: `create table effects (run_id text not null, step text not null, at timestamptz not null default now());
          create table invocations (run_id text not null, step text not null, runner text not null);`,
  },
  ...workflowMigrations,
];
