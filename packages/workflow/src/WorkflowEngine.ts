import type { Logger, MetricsRegistry } from '@refront/core';
import type { Database } from '@refront/data';
import type { Workflow } from './defineWorkflow.js';
import { Engine } from './internal/Engine.js';
import type { StoredError } from './internal/executeRun.js';
import type { WorkflowControl } from './WorkflowControl.js';

/** Where a run can be crashed in a test: before a new step executes, or after it was journaled. */
export interface FaultPoint {
  readonly runId: string;
  readonly workflow: string;
  /** The step's position in the run (0-based). */
  readonly seq: number;
  readonly step: string;
  readonly when: 'before' | 'after';
}

/** Where a run is. */
export type RunState = 'running' | 'compensating' | 'completed' | 'compensated' | 'failed';

/** A run, as {@link WorkflowEngine.status} reads it. */
export interface RunStatus {
  readonly id: string;
  readonly workflow: string;
  readonly version: number;
  readonly state: RunState;
  readonly output: unknown;
  /** The failure that made it compensate: failed step, status, reason, message. */
  readonly error: StoredError | null;
}

/** A started run. */
export interface WorkflowRun<O> {
  readonly id: string;
  /** Waits for the run to end; see {@link WorkflowEngine.result}. */
  result(options?: { readonly signal?: AbortSignal }): Promise<O>;
}

/** Options of {@link createWorkflowEngine}. */
export interface WorkflowEngineOptions {
  /** The service database, opened with `workflowMigrations` among its migrations. */
  readonly db: Database;
  /** The workflows (every version that may still have runs) this engine runs. */
  // biome-ignore lint/suspicious/noExplicitAny: workflows of any input and output
  readonly workflows: readonly Workflow<any, any, any>[];
  /** @default silent */
  readonly logger?: Logger;
  /**
   * The service name of the request context steps and compensations run in (with the tenant the
   * run was started for, wherever it resumes). @default 'workflow'
   */
  readonly service?: string;
  /** Registry for `refront_workflow_*` metrics. @default none */
  readonly metrics?: MetricsRegistry;
  /** This runner's name in leases. @default a random UUID */
  readonly instanceId?: string;
  /** Lease length in ms; renewed every third of it while a run executes. @default 30000 */
  readonly leaseMs?: number;
  /** How often the sweeper looks for runs that are due (lease expired, timer or signal), in ms. @default 1000 */
  readonly pollIntervalMs?: number;
  /** Runs this runner executes at once. @default 32 */
  readonly maxConcurrentRuns?: number;
  /** Attempts of a step with retryable errors, in one runner. @default 3 */
  readonly stepMaxAttempts?: number;
  /** Attempts of a compensation before it is dead-lettered. @default 10 */
  readonly compensationMaxAttempts?: number;
  /** First retry delay of a step or compensation, in ms; doubles per attempt. @default 100 */
  readonly minBackoffMs?: number;
  /** Longest retry delay, in ms. @default 30000 */
  readonly maxBackoffMs?: number;
  /** Called before each new step and after it is journaled: tests crash the process there. @default none */
  readonly faultPoint?: (point: FaultPoint) => void | Promise<void>;
}

/**
 * Runs durable workflows on one service database; several instances share its runs. Its
 * `cancel` and `retryCompensations` ({@link WorkflowControl}) sweep at once after the request.
 */
export interface WorkflowEngine extends WorkflowControl {
  /**
   * Starts a run; `id` is the idempotency key: starting again with the same id and input returns
   * the existing run. This runner executes it at once when it has room, else any runner's sweep does.
   * @throws RefrontError `WORKFLOW_UNKNOWN_WORKFLOW`; `WORKFLOW_ID_CONFLICT` for an id used by another workflow or input;
   *   `CORE_CLOSED` after `close()`.
   */
  start<I, O>(
    // biome-ignore lint/suspicious/noExplicitAny: any compensations
    workflow: Workflow<I, O, any>,
    input: I,
    options?: { readonly id?: string },
  ): Promise<WorkflowRun<O>>;
  /**
   * Waits until the run ends and returns its output.
   * @throws RefrontError ABORTED `WORKFLOW_FAILED` when it was compensated or its compensation failed
   *   (`cause` is the step's error as stored); NOT_FOUND `WORKFLOW_NOT_FOUND`.
   */
  result<O = unknown>(runId: string, options?: { readonly signal?: AbortSignal }): Promise<O>;
  /** Reads a run. @throws RefrontError NOT_FOUND `WORKFLOW_NOT_FOUND`. */
  status(runId: string): Promise<RunStatus>;
  /**
   * Delivers a signal the run waits for (or will wait for) with `ctx.waitFor(name)`.
   * @throws RefrontError `WORKFLOW_NOT_FOUND`; FAILED_PRECONDITION `WORKFLOW_NOT_WAITING` when it has ended.
   */
  signal(runId: string, name: string, payload?: unknown): Promise<void>;
  /**
   * Test mode: runs the workflow's code again against the run's journal, executing nothing, and
   * throws `WORKFLOW_NONDETERMINISM` when the code makes other steps or returns another output.
   */
  replay(runId: string): Promise<void>;
  /** Claims and starts the runs that are due now (the periodic sweeper calls it); returns how many. */
  sweep(): Promise<number>;
  /** Stops sweeping, interrupts running runs at their next step (released to other runners). Idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a workflow engine on a service database and starts its sweeper.
 *
 * @throws RefrontError FAILED_PRECONDITION `WORKFLOW_NOT_MIGRATED` when the journal tables are missing;
 *   INVALID_ARGUMENT `CORE_INVALID_OPTION` for a bad option.
 * @example
 * const db = await openDatabase({ schema: 'orders', url, migrations: [...migrations, ...workflowMigrations] });
 * await using engine = await createWorkflowEngine({ db, workflows: [placeOrder] });
 * const run = await engine.start(placeOrder, { orderId: 'o-1' }, { id: 'order-o-1' });
 * console.log(await run.result());
 */
export async function createWorkflowEngine(options: WorkflowEngineOptions): Promise<WorkflowEngine> {
  const engine = new Engine(options);
  await engine.check();
  engine.begin();
  return engine;
}
