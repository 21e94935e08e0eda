import { invalidOption } from '@refront/core/transport';
import type { Transaction } from '@refront/data';

/** What a step's function is given. */
export interface StepContext {
  /** The run's id (the idempotency key it was started with). */
  readonly runId: string;
  /** The step's name. */
  readonly step: string;
  /**
   * The key to pass to another service this step calls (`client.m(req, { idempotencyKey })`):
   * derived from the run id and the step's position, so the retry of a step, or its second run
   * after a crash, sends the same key and the callee answers with its first response.
   */
  readonly idempotencyKey: string;
  /** 1 for the first attempt of this step in this process; grows with retries. */
  readonly attempt: number;
  /** Aborted when the runner loses its lease or closes: stop and let the next runner redo the step. */
  readonly signal: AbortSignal;
}

/** Why a run failed, as stored with it. */
export interface RunFailure {
  /** The step that failed (null when the workflow's own code threw). */
  readonly step: string | null;
  readonly status: string;
  readonly reason: string;
  readonly message: string;
}

/** What a compensation is given. */
export interface CompensationContext {
  /** The run's id. */
  readonly runId: string;
  /** The step the compensation was registered with. */
  readonly step: string;
  /** Same for every attempt of this compensation: pass it to another service this compensation calls. */
  readonly idempotencyKey: string;
  /** 1 for the first attempt; grows with retries (persisted across restarts). */
  readonly attempt: number;
  /** Why the run failed: the failed step and its error's status, reason and message. */
  readonly failure: RunFailure;
  /**
   * Runs `fn` in a transaction of the service database that also marks this compensation done,
   * so a database compensation commits exactly once.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
}

/**
 * A compensation: undoes what its step did. Registered (and persisted) before the step runs, so it
 * also runs when a step's effect may have happened before the step failed or the process died:
 * it must tolerate finding nothing to undo, and be idempotent unless it uses `c.transaction`.
 */
// biome-ignore lint/suspicious/noExplicitAny: the argument type is each compensation's own
export type Compensation<A = any> = (c: CompensationContext, args: A) => Promise<void>;

/** The argument types of a workflow's compensations, by compensation name. */
export type CompensationArgs = Readonly<Record<string, unknown>>;

/** A workflow's compensations by name, each taking its arguments from `A`. */
export type Compensations<A extends CompensationArgs = CompensationArgs> = {
  readonly [K in keyof A]: Compensation<A[K]>;
};

/** One of a workflow's compensations with its arguments (stored as JSON in the journal). */
export type CompensationCall<A extends CompensationArgs> = {
  [K in keyof A & string]: { readonly name: K; readonly args: A[K] };
}[keyof A & string];

/** Options of one step. */
export interface StepOptions<A extends CompensationArgs> {
  /** What undoes this step when the run fails later (or in this step). */
  readonly compensate?: CompensationCall<A>;
  /**
   * Attempts in one runner, counting the first, for retryable errors (RefrontError with
   * `retryable`, serialization failures and deadlocks); other errors fail the run at once. @default 3
   */
  readonly maxAttempts?: number;
}

/** Options of {@link WorkflowContext.waitFor}. */
export interface WaitForOptions {
  /** Fail the run with `WORKFLOW_TIMEOUT` when the signal has not come after this long, in ms. @default none */
  readonly timeoutMs?: number;
}

/**
 * What a workflow's code is given. Only results of steps (and signals) may decide what the code
 * does next: on resume the code runs again from the start, completed steps return their journaled
 * result without running, and the calls must come in the same order with the same names.
 */
export interface WorkflowContext<A extends CompensationArgs = CompensationArgs> {
  /** The run's id. */
  readonly runId: string;
  /** The workflow version the run started with. */
  readonly version: number;
  /**
   * Runs `fn` once and journals its result (JSON): a step that calls another service, or computes.
   * Its effect may repeat when the process dies after the effect and before the journal write:
   * pass `s.idempotencyKey` to the callee.
   */
  step<T>(name: string, fn: (s: StepContext) => Promise<T>, options?: StepOptions<A>): Promise<T>;
  /**
   * Runs `fn` in a transaction of the service database that also journals its result: its writes
   * (and the outbox events it adds with `tx`) commit exactly once, together with the journal entry.
   * Do not use the database handle inside `fn`, only `tx`.
   */
  transaction<T>(
    name: string,
    fn: (tx: Transaction, s: StepContext) => Promise<T>,
    options?: StepOptions<A>,
  ): Promise<T>;
  /** A durable timer: the run is put aside and resumes (on any instance) after `ms`. */
  sleep(ms: number): Promise<void>;
  /** Waits for the signal `name` sent with `engine.signal(runId, name, payload)`; returns its payload. */
  waitFor<T = unknown>(name: string, options?: WaitForOptions): Promise<T>;
}

/** What {@link defineWorkflow} takes. */
export interface WorkflowDefinition<I, O, A extends CompensationArgs> {
  /** Name stored with each run; runs are found by name and version. */
  readonly name: string;
  /**
   * Version of the code: a run keeps the version it started with, so register the old definition
   * beside the new one until its runs have ended. @default 1
   */
  readonly version?: number;
  /** The compensations steps may register, by name. @default {} */
  readonly compensations?: Compensations<A>;
  /** The workflow's code. Its input and output are JSON. */
  run(ctx: WorkflowContext<A>, input: I): Promise<O>;
}

/** A workflow, as an engine runs it. */
export interface Workflow<I = unknown, O = unknown, A extends CompensationArgs = CompensationArgs> {
  readonly name: string;
  readonly version: number;
  readonly compensations: Compensations<A>;
  run(ctx: WorkflowContext<A>, input: I): Promise<O>;
}

/**
 * Declares a durable workflow: typed input and output, steps journaled in the service database,
 * compensations by name.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for an empty name or a version that is
 *   not a positive integer.
 * @example
 * const transfer = defineWorkflow({
 *   name: 'transfer',
 *   compensations: { refund: async (c, a: { account: string; amount: number }) => { … } },
 *   async run(ctx, input: { from: string; to: string; amount: number }) {
 *     await ctx.transaction('debit', (tx) => debit(tx, input.from, input.amount), {
 *       compensate: { name: 'refund', args: { account: input.from, amount: input.amount } },
 *     });
 *     await ctx.step('credit', (s) => bank.credit({ to: input.to, amount: input.amount }, { idempotencyKey: s.idempotencyKey }));
 *     return { ok: true };
 *   },
 * });
 */
export function defineWorkflow<I, O, A extends CompensationArgs = Record<never, never>>(
  definition: WorkflowDefinition<I, O, A>,
): Workflow<I, O, A> {
  if (typeof definition.name !== 'string' || definition.name === '')
    throw invalidOption('a workflow needs a name');
  const version = definition.version ?? 1;
  if (!Number.isSafeInteger(version) || version < 1)
    throw invalidOption(`workflow ${definition.name}: version must be a positive integer`);
  return Object.freeze({
    name: definition.name,
    version,
    compensations: definition.compensations ?? ({} as Compensations<A>),
    run: definition.run.bind(definition),
  });
}
