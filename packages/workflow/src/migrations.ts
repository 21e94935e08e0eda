import type { Migration } from '@refront/data';

/**
 * The versions the workflow tables take in a service's migration ledger: far above any version a
 * service numbers by hand, so both lists share one ledger without clashing.
 */
export const WORKFLOW_MIGRATION_BASE = 2_000_000_000;

/**
 * The migrations of the workflow journal (`refront_workflow_runs`, `_steps`, `_compensations`,
 * `_signals`, and the runs' cancel requests): pass them with the service's own to `openDatabase`, which applies each once,
 * checksummed and under its advisory lock.
 *
 * @example
 * const db = await openDatabase({ schema: 'invoicing', url, migrations: [...mine, ...workflowMigrations] });
 */
export const workflowMigrations: readonly Migration[] = Object.freeze([
  {
    version: WORKFLOW_MIGRATION_BASE + 1,
    name: 'refront workflow journal',
    sql: `
create table refront_workflow_runs (
  id text primary key,
  workflow text not null,
  version integer not null,
  input jsonb not null,
  state text not null,
  output jsonb,
  error jsonb,
  lease_owner text,
  lease_until timestamptz,
  epoch integer not null default 0,
  wake_at timestamptz,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index refront_workflow_runs_due on refront_workflow_runs (state, lease_until);
create table refront_workflow_steps (
  run_id text not null references refront_workflow_runs (id) on delete cascade,
  seq integer not null,
  name text not null,
  output jsonb,
  completed_at timestamptz not null default now(),
  primary key (run_id, seq)
);
create table refront_workflow_compensations (
  run_id text not null references refront_workflow_runs (id) on delete cascade,
  seq integer not null,
  step text not null,
  name text not null,
  args jsonb,
  state text not null default 'pending',
  attempts integer not null default 0,
  last_error text,
  primary key (run_id, seq)
);
create table refront_workflow_signals (
  id bigserial primary key,
  run_id text not null references refront_workflow_runs (id) on delete cascade,
  name text not null,
  payload jsonb,
  consumed boolean not null default false
);
create index refront_workflow_signals_run on refront_workflow_signals (run_id, name, consumed);`,
  },
  {
    version: WORKFLOW_MIGRATION_BASE + 2,
    name: 'refront workflow run context and step timing',
    // The tenant and traceparent a run was started with, restored when another process resumes
    // it; when each step started and how many attempts it took, for the console's timeline.
    sql: `
alter table refront_workflow_runs add column tenant text, add column traceparent text;
alter table refront_workflow_steps add column started_at timestamptz, add column attempts integer not null default 1;
create index refront_workflow_runs_recent on refront_workflow_runs (created_at desc);`,
  },
  {
    version: WORKFLOW_MIGRATION_BASE + 3,
    name: 'refront workflow cancel requests',
    // An operator's cancel, durable: the runner holding the run reads it before its next step
    // (or at its claim), so a crash between the request and the next step still cancels.
    sql: `
alter table refront_workflow_runs add column cancel_requested_at timestamptz, add column cancel_reason text;`,
  },
]);
