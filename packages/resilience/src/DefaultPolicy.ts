import type { Logger, MetricsRegistry } from '@refront/core';
import { type BulkheadOptions, createBulkhead } from './Bulkhead.js';
import type { CircuitBreakerOptions } from './CircuitBreakerOptions.js';
import { createCircuitBreakerPool } from './CircuitBreakerPool.js';
import { instrument } from './instrument.js';
import type { PolicyLayer } from './PolicyLayer.js';
import { composePolicy, type ResiliencePolicy } from './policy.js';
import { createRateLimit, type RateLimitOptions } from './RateLimit.js';
import { createRetry, type RetryOptions } from './Retry.js';
import { createTimeout, type TimeoutOptions } from './Timeout.js';

/** Options of {@link createDefaultPolicy}: each layer's options, or `false` to opt out of it. */
export interface DefaultPolicyOptions {
  /** The timeout layer. @default {} (10 s) */
  readonly timeout?: TimeoutOptions | false;
  /** The retry layer with its budget. @default {} (3 attempts, 20% budget) */
  readonly retry?: RetryOptions | false;
  /** The per-target circuit breakers. @default {} (50% of ≥ 20 calls in 10 s, 10 s open) */
  readonly circuitBreaker?: CircuitBreakerOptions | false;
  /** The bulkhead. @default {} (100 running, 50 queued) */
  readonly bulkhead?: BulkheadOptions | false;
  /** The rate limiter; off unless given, since no rate fits every caller. @default false */
  readonly rateLimit?: RateLimitOptions | false;
  /** Registry for the policy's counters. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** Logger for the policy's state changes. @default none */
  readonly logger?: Logger | undefined;
  /** The `policy` label and log field. @default 'default' */
  readonly name?: string | undefined;
}

/**
 * What {@link createDefaultPolicy} turns on: every layer but the rate limiter, with its defaults.
 *
 * @example
 * createDefaultPolicy({ ...DEFAULT_POLICY_OPTIONS, retry: false }); // everything but retries
 */
export const DEFAULT_POLICY_OPTIONS: Readonly<
  Required<Pick<DefaultPolicyOptions, 'timeout' | 'retry' | 'circuitBreaker' | 'bulkhead' | 'rateLimit'>>
> = Object.freeze({ timeout: {}, retry: {}, circuitBreaker: {}, bulkhead: {}, rateLimit: false });

/**
 * Creates the safe default policy the transports ship: timeout → bulkhead → retry (with a retry
 * budget) → circuit breaker per target. Safety is on unless opted out layer by layer with `false`.
 * Events are counted in `metrics` and logged to `logger` when given.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` when a layer's options are invalid.
 * @example
 * const p = createDefaultPolicy({ metrics, logger, name: 'tickets', retry: { maxAttempts: 2 } });
 * const reply = await p.execute(({ signal, target }) => send(target, request, signal), {
 *   idempotent: true,
 *   pickTarget: () => balancer.pick().key,
 * });
 */
export function createDefaultPolicy(options: DefaultPolicyOptions = {}): ResiliencePolicy {
  const o = { ...DEFAULT_POLICY_OPTIONS, ...options };
  const layers: PolicyLayer[] = [];
  if (o.timeout !== false) layers.push(createTimeout(o.timeout));
  if (o.rateLimit !== false) layers.push(createRateLimit(o.rateLimit));
  if (o.bulkhead !== false) layers.push(createBulkhead(o.bulkhead));
  if (o.retry !== false) layers.push(createRetry(o.retry));
  if (o.circuitBreaker !== false) layers.push(createCircuitBreakerPool(o.circuitBreaker));
  if (!o.metrics && !o.logger) return composePolicy(layers);
  return composePolicy(layers, (events) =>
    instrument(events, { metrics: o.metrics, logger: o.logger, name: o.name }),
  );
}
