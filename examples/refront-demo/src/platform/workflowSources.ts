import type { Service } from '@refront/core';
import type { Database, ServiceModule } from '@refront/data';
import {
  createWorkflowReader,
  WORKFLOW_MIGRATION_BASE,
  type WorkflowReader,
  workflowOpsHandler,
} from '@refront/workflow';

/** Whether a module journals workflows (its migrations include `workflowMigrations`). */
export function usesWorkflows(module: ServiceModule): boolean {
  return module.migrations.some((m) => m.version > WORKFLOW_MIGRATION_BASE);
}

/**
 * The monolith's workflow sources for the console: a reader on the database of each module that
 * journals workflows, by service name.
 */
export function workflowReaders(
  modules: readonly ServiceModule[],
  databases: ReadonlyMap<string, Database>,
): Record<string, WorkflowReader> {
  const readers: Record<string, WorkflowReader> = {};
  for (const m of modules) {
    const db = databases.get(m.name);
    if (db && usesWorkflows(m)) readers[m.name] = createWorkflowReader(db);
  }
  return readers;
}

/**
 * A distributed process serves its module's runs on its ops server (`/workflows/runs`, JSON),
 * for the console process to read with `httpWorkflowSource`, to requests that carry `token` (the
 * console's). Without a token it serves nothing: run inputs hold tenants' data, and the ops port
 * is reachable by anything on the network.
 */
export function serveWorkflowRuns(
  host: Service<unknown>,
  module: ServiceModule,
  db: Database,
  token: string | undefined,
): void {
  if (usesWorkflows(module))
    host.opsRoute('/workflows', workflowOpsHandler(createWorkflowReader(db), { token }));
}
