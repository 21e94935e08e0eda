export type { BulkheadLayer, BulkheadOptions } from './Bulkhead.js';
export { createBulkhead, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUE } from './Bulkhead.js';
export type { CircuitBreakerOptions } from './CircuitBreakerOptions.js';
export {
  DEFAULT_BREAKER_IDLE_TTL_MS,
  DEFAULT_ERROR_THRESHOLD_PERCENTAGE,
  DEFAULT_RESET_TIMEOUT_MS,
  DEFAULT_ROLLING_BUCKETS,
  DEFAULT_ROLLING_WINDOW_MS,
  DEFAULT_VOLUME_THRESHOLD,
} from './CircuitBreakerOptions.js';
export type { BreakerExecuteOptions, CircuitBreakerPool, CircuitState } from './CircuitBreakerPool.js';
export { createCircuitBreakerPool, DEFAULT_BREAKER_TARGET } from './CircuitBreakerPool.js';
export { cancelSignalOf } from './cancelSignalOf.js';
export type { DefaultPolicyOptions } from './DefaultPolicy.js';
export { createDefaultPolicy, DEFAULT_POLICY_OPTIONS } from './DefaultPolicy.js';
export type { ResilienceReasonCode } from './errors.js';
export { ResilienceErrors, ResilienceReason } from './errors.js';
export { DEFAULT_FAILURE_STATUSES, isInstanceFailure } from './failureStatuses.js';
export type { InstrumentOptions } from './instrument.js';
export { DEFAULT_POLICY_NAME, instrument, RESILIENCE_METRICS } from './instrument.js';
export type { PolicyCall, TargetPicker } from './PolicyCall.js';
export type {
  PolicyLayer,
  PolicyLayerKind,
  ResilienceAttemptContext,
  ResilienceExecuteOptions,
} from './PolicyLayer.js';
export { LAYER_ORDER } from './PolicyLayer.js';
export type { ResiliencePolicy } from './policy.js';
export { policy, runPolicy } from './policy.js';
export type { PolicyInterceptorOptions } from './policyInterceptor.js';
export { policyInterceptor } from './policyInterceptor.js';
export type { RateLimitLayer, RateLimitOptions } from './RateLimit.js';
export { createRateLimit } from './RateLimit.js';
export type {
  BreakerStateEvent,
  RejectedEvent,
  ResilienceEvent,
  ResilienceEventMap,
  RetryBudgetExhaustedEvent,
  RetryEvent,
  TimeoutEvent,
} from './ResilienceEvents.js';
export { ResilienceEvents } from './ResilienceEvents.js';
export type { RetryLayer, RetryOptions } from './Retry.js';
export {
  createRetry,
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_RETRY_ON,
  fullJitterDelay,
} from './Retry.js';
export type { RetryBudget, RetryBudgetOptions, RetryBudgetStats } from './RetryBudget.js';
export {
  createRetryBudget,
  DEFAULT_MIN_RETRIES_PER_SECOND,
  DEFAULT_RETRY_BUDGET_RATIO,
  DEFAULT_RETRY_BUDGET_WINDOW_MS,
} from './RetryBudget.js';
export type { TimeoutLayer, TimeoutOptions } from './Timeout.js';
export { createTimeout, DEFAULT_TIMEOUT_MS } from './Timeout.js';
