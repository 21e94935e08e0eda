/**
 * The circuit breaker settings the demo's services call each other with, read from the policy
 * configuration they use instead of copied into the tests: `openLane` (src/platform/rpcLane.ts)
 * gives its mux and gRPC channels no policy, so each runs `createDefaultPolicy()`, whose breakers
 * are `DEFAULT_POLICY_OPTIONS.circuitBreaker` over the pool's defaults.
 */
import {
  type CircuitBreakerOptions,
  DEFAULT_POLICY_OPTIONS,
  DEFAULT_RESET_TIMEOUT_MS,
  DEFAULT_ROLLING_WINDOW_MS,
} from '@refront/resilience';

/** The timings of the demo's breakers, in ms. */
export interface DemoBreaker {
  /** How long an open breaker fails calls fast before it lets one probe through. */
  readonly resetTimeoutMs: number;
  /** The window whose share of failures opens a breaker. */
  readonly rollingWindowMs: number;
}

/**
 * The breaker timings of the demo's channels.
 *
 * @throws Error when the default policy has no breaker (nothing would fail fast).
 * @example
 * await until('calls to succeed', check, demoBreaker().resetTimeoutMs + 5_000);
 */
export function demoBreaker(): DemoBreaker {
  const options: CircuitBreakerOptions | false = DEFAULT_POLICY_OPTIONS.circuitBreaker;
  if (options === false) throw new Error('the default policy has no circuit breaker');
  return {
    resetTimeoutMs: options.resetTimeoutMs ?? DEFAULT_RESET_TIMEOUT_MS,
    rollingWindowMs: options.rollingWindowMs ?? DEFAULT_ROLLING_WINDOW_MS,
  };
}
