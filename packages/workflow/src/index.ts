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
export type {
  FaultPoint,
  RunState,
  RunStatus,
  WorkflowEngine,
  WorkflowEngineOptions,
  WorkflowRun,
} from './WorkflowEngine.js';
export { createWorkflowEngine } from './WorkflowEngine.js';
