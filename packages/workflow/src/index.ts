export type {
  Compensation,
  CompensationArgs,
  CompensationCall,
  CompensationContext,
  Compensations,
  RunFailure,
  StepContext,
  StepOptions,
  WaitForOptions,
  Workflow,
  WorkflowContext,
  WorkflowDefinition,
} from './defineWorkflow.js';
export { defineWorkflow } from './defineWorkflow.js';
export type { WorkflowReasonCode } from './errors.js';
export { WorkflowErrors, WorkflowReason } from './errors.js';
export { WORKFLOW_MIGRATION_BASE, workflowMigrations } from './migrations.js';
export type { WorkflowControl, WorkflowControlOptions } from './WorkflowControl.js';
export { createWorkflowControl } from './WorkflowControl.js';
export type {
  FaultPoint,
  RunState,
  RunStatus,
  WorkflowEngine,
  WorkflowEngineOptions,
  WorkflowRun,
} from './WorkflowEngine.js';
export { createWorkflowEngine } from './WorkflowEngine.js';
export type {
  CompensationRecord,
  RunFilter,
  RunJournal,
  RunSummary,
  StepRecord,
  WorkflowReader,
} from './WorkflowReader.js';
export { createWorkflowReader } from './WorkflowReader.js';
export type { WorkflowOpsOptions } from './workflowOpsHandler.js';
export { workflowOpsHandler } from './workflowOpsHandler.js';
