import type { RefrontError } from '@refront/core';
import type { AttemptContext, ExecuteOptions } from '@refront/core/transport';
import type { ResilienceEvents } from './ResilienceEvents.js';

/**
 * The kinds of layer a policy composes, in the fixed order they run, outermost first:
 * the deadline covers everything, local overload is refused before any retry, and each retry
 * goes through the breaker of the target it calls.
 *
 * @example
 * policy(createRetry(), createTimeout()).layers; // ['timeout', 'retry'], as in LAYER_ORDER
 */
export const LAYER_ORDER = ['timeout', 'rateLimit', 'bulkhead', 'retry', 'circuitBreaker'] as const;

/** One of {@link LAYER_ORDER}. */
export type PolicyLayerKind = (typeof LAYER_ORDER)[number];

/**
 * One building block of a policy, made by `createTimeout`, `createRetry`, `createCircuitBreakerPool`,
 * `createBulkhead` or `createRateLimit`, and composed by `policy(...)`. A layer holds its own state
 * (breakers, budget, slots, tokens), so a layer given to two policies is shared by both.
 *
 * @example
 * const p = policy(createTimeout({ timeoutMs: 2_000 }), createRetry());
 */
export interface PolicyLayer {
  /** Which layer this is; decides its place in the policy. */
  readonly kind: PolicyLayerKind;
  /** The events this layer emits (a policy forwards them to its own `events`). */
  readonly events: ResilienceEvents;
  /** Releases timers the layer owns (breaker pools); idempotent. */
  close(): Promise<void>;
}

/**
 * What each attempt of a resilience policy gets.
 *
 * @example
 * await p.execute(({ signal, attempt, target, deadline }) => send(target, { signal, deadline }));
 */
export interface ResilienceAttemptContext extends AttemptContext {
  /** The target of this attempt: the one `pickTarget` chose, else the execution's `target`. */
  readonly target: string | undefined;
  /** The effective absolute deadline (epoch ms) to send downstream, or undefined for none. */
  readonly deadline: number | undefined;
}

/**
 * Per-execution options of a resilience policy.
 *
 * @example
 * await p.execute(fn, { signal, idempotent: true, target: 'tickets', pickTarget: () => lb.pick().key });
 */
export interface ResilienceExecuteOptions<T = unknown> extends ExecuteOptions {
  /** Absolute deadline in ms since the epoch; the earliest of this, the request context's and the timeout wins. */
  readonly deadline?: number | undefined;
  /**
   * Picks the target of each attempt (an instance: `tickets/10.0.0.7:50051`), so the breaker layer
   * guards the instance this attempt calls and a retry can go elsewhere. @default uses `target`
   */
  readonly pickTarget?: ((attempt: number) => string) | undefined;
  /**
   * Value to return instead of failing. Runs outermost, for any failure except the caller's own
   * abort, with the final error. @default none: the error is thrown
   */
  readonly fallback?: ((error: RefrontError) => T | Promise<T>) | undefined;
}
