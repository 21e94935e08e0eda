import type { Reply } from '@refront/core/transport';
import type { ResilienceAttemptContext } from './PolicyLayer.js';

/** Picks the target of each attempt. */
export interface TargetPicker {
  /**
   * The target of attempt `attempt` (1 for the first), or undefined to use the execution's
   * `target`. Called at most once per attempt, before the attempt runs (a breaker layer guards
   * the target it returns); a throw fails the attempt.
   */
  pickTarget(attempt: number): string | undefined;
}

/**
 * One call a transport runs under a policy with {@link runPolicy}, as one object: the execution's
 * options (signal, deadline, idempotence, target), its target picker, its attempts and where its
 * outcome goes. A policy run this way settles no promise and makes no closure per layer or
 * attempt (`execute` settles at least two promises per call), which matters on a path every
 * call of every service takes.
 *
 * @example
 * class Outgoing implements PolicyCall<Res> {
 *   readonly idempotent = true;
 *   attempt(ctx, done) { send(ctx.target, ctx.deadline, cancelSignalOf(ctx), done); }
 *   pickTarget() { return undefined; }
 *   ok(res) { resolve(res); }
 *   fail(e) { reject(e); }
 *   // signal, deadline, target…
 * }
 */
export interface PolicyCall<T> extends TargetPicker {
  /** Stops the execution and any further attempt once aborted. */
  readonly signal: AbortSignal | undefined;
  /** Absolute deadline in ms since the epoch; the earliest of this, the request context's and the timeout wins. */
  readonly deadline: number | undefined;
  /** Whether the operation is safe to run twice (see `ResilienceExecuteOptions.idempotent`). */
  readonly idempotent: boolean;
  /** Name of what is called, for breakers, metrics and logs. */
  readonly target: string | undefined;
  /**
   * Runs one attempt and reports how it ended to `done`, exactly once (now or later). A throw
   * counts as the attempt's failure. Attempts run one at a time.
   */
  attempt(ctx: ResilienceAttemptContext, done: Reply): void;
  /** The execution succeeded with `value`. Exactly one of `ok` and `fail` is called, once. */
  ok(value: T): void;
  /**
   * The execution failed: a layer refused or gave up, the last attempt's error, or the caller's
   * abort reason, unchanged.
   */
  fail(error: unknown): void;
}
