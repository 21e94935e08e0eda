import { ResilienceErrors, ResilienceReason, targetDetails } from './errors.js';
import { type AttemptFn, defineLayer, type Execution, type Sink, type Step } from './internal/Execution.js';
import { requireNumber } from './internal/validate.js';
import type { PolicyLayer } from './PolicyLayer.js';
import { ResilienceEvents } from './ResilienceEvents.js';

/** Options of {@link createRateLimit}. */
export interface RateLimitOptions {
  /** Tokens added per second: the sustained rate of executions. Required. */
  readonly ratePerSecond: number;
  /** Bucket capacity: how many executions may start at once after a quiet period. @default ratePerSecond */
  readonly burst?: number;
}

/** The rate-limit layer of a policy. */
export interface RateLimitLayer extends PolicyLayer {
  readonly kind: 'rateLimit';
  /** Takes one token; returns 0 when taken, else the ms until the next token. */
  tryAcquire(): number;
}

/**
 * Creates a token-bucket rate limiter: `burst` tokens, refilled at `ratePerSecond` (lazily, from
 * `Date.now()`, no timer). An execution that finds no token is rejected at once with
 * RESOURCE_EXHAUSTED `RESILIENCE_RATE_LIMITED`, whose `details.retryDelayMs` says when to come back.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` when `ratePerSecond` is not positive or `burst < 1`.
 * @example
 * const p = policy(createRateLimit({ ratePerSecond: 50, burst: 10 }), createRetry());
 */
export function createRateLimit(options: RateLimitOptions): RateLimitLayer {
  const rate = requireNumber('ratePerSecond', options?.ratePerSecond, Number.MIN_VALUE);
  const burst = requireNumber('burst', options.burst ?? Math.max(1, rate), 1);
  const events = new ResilienceEvents();
  let tokens = burst;
  let last = Date.now();
  const tryAcquire = (): number => {
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - last) * rate) / 1000);
    last = now;
    if (tokens >= 1) {
      tokens -= 1;
      return 0;
    }
    return Math.ceil(((1 - tokens) * 1000) / rate);
  };
  const layer: RateLimitLayer = { kind: 'rateLimit', events, tryAcquire, close: () => Promise.resolve() };
  return defineLayer(layer, (inner: Step) => {
    return <T>(fn: AttemptFn<T>, x: Execution, sink: Sink<T>): void => {
      const waitMs = tryAcquire();
      if (waitMs === 0) {
        inner(fn, x, sink);
        return;
      }
      const error = ResilienceErrors.RATE_LIMITED.with(
        { details: { retryDelayMs: waitMs, ...targetDetails(x.target) } },
        x.target,
      );
      events.emit({ type: 'rejected', target: x.target, reason: ResilienceReason.RATE_LIMITED, error });
      sink.fail(error);
    };
  });
}
