import { counterOf, histogramOf, type MetricsRegistry } from '@refront/core';
import type { Counter, Histogram } from 'prom-client';

/** The workflow metrics of one registry. */
export interface WorkflowMetrics {
  /** Runs that ended, by workflow and outcome (completed, compensated, failed). */
  readonly runs: Counter<string>;
  /** Step executions (not journal replays), by workflow, step and outcome (ok, error). */
  readonly steps: Histogram<string>;
  /** Compensation attempts, by workflow, compensation and outcome (done, retry, dead). */
  readonly compensations: Counter<string>;
  /** Operator actions accepted, by workflow and action (cancel, retry-compensations). */
  readonly actions: Counter<string>;
}

/** Returns the workflow metrics of `registry`, registering them once. */
export function workflowMetrics(registry: MetricsRegistry): WorkflowMetrics {
  return {
    runs: counterOf(registry, 'refront_workflow_runs_total', 'Workflow runs that ended', [
      'workflow',
      'outcome',
    ]),
    steps: histogramOf(
      registry,
      'refront_workflow_step_duration_seconds',
      'Workflow step executions (journal replays excluded)',
      ['workflow', 'step', 'outcome'],
    ),
    compensations: counterOf(registry, 'refront_workflow_compensations_total', 'Compensation attempts', [
      'workflow',
      'compensation',
      'outcome',
    ]),
    actions: counterOf(
      registry,
      'refront_workflow_actions_total',
      'Operator actions on workflow runs accepted (a repeated cancel is not counted)',
      ['workflow', 'action'],
    ),
  };
}
