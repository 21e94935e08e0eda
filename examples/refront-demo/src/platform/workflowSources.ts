import type { Service } from '@refront/core';
import type { Database, ServiceModule } from '@refront/data';
import {
  createWorkflowControl,
  createWorkflowReader,
  WORKFLOW_MIGRATION_BASE,
  type WorkflowControl,
  type WorkflowReader,
  workflowOpsHandler,
} from '@refront/workflow';

/** Whether a module journals workflows (its migrations include `workflowMigrations`). */
export function usesWorkflows(module: ServiceModule): boolean {
  return module.migrations.some((m) => m.version > WORKFLOW_MIGRATION_BASE);
}

/** What the console reads and acts on for one service: its runs, and the operator's actions on them. */
export type WorkflowConsoleSource = WorkflowReader & WorkflowControl;

/**
 * The monolith's workflow sources for the console: a reader and a control on the database of each
 * module that journals workflows, by service name. The module's engine carries the control's
 * requests out at its next sweep.
 */
export function workflowSources(
  modules: readonly ServiceModule[],
  databases: ReadonlyMap<string, Database>,
  host: Service<unknown>,
): Record<string, WorkflowConsoleSource> {
  const sources: Record<string, WorkflowConsoleSource> = {};
  for (const m of modules) {
    const db = databases.get(m.name);
    if (db && usesWorkflows(m))
      sources[m.name] = {
        ...createWorkflowReader(db),
        ...createWorkflowControl(db, { metrics: host.metrics }),
      };
  }
  return sources;
}

/**
 * A distributed process serves its module's runs on its ops server (`/workflows/runs`, JSON), and
 * the operator's actions on them (cancel, retry compensations), for the console process to use
 * with `httpWorkflowSource`, to requests that carry `token` (the console's). Without a token it
 * serves nothing: run inputs hold tenants' data, and the ops port is reachable by anything on
 * the network.
 */
export function serveWorkflowRuns(
  host: Service<unknown>,
  module: ServiceModule,
  db: Database,
  token: string | undefined,
): void {
  if (usesWorkflows(module))
    host.opsRoute(
      '/workflows',
      workflowOpsHandler(createWorkflowReader(db), {
        token,
        control: createWorkflowControl(db, { metrics: host.metrics }),
      }),
    );
}
