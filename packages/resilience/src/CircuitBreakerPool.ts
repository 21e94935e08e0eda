import { EventEmitter } from 'node:events';
import { CoreErrors } from '@refront/core';
import {
  type BreakerSettings,
  type CircuitBreakerOptions,
  resolveBreakerOptions,
} from './CircuitBreakerOptions.js';
import { recordFailureStatuses } from './failureStatuses.js';
import {
  type AttemptFn,
  defineLayer,
  type Execution,
  type Sink,
  type Step,
  targetOf,
} from './internal/Execution.js';
import { type BreakerState, type CallAbort, TargetBreaker } from './internal/TargetBreaker.js';
import type { PolicyLayer } from './PolicyLayer.js';
import { ResilienceEvents } from './ResilienceEvents.js';

/** The key used in a policy when an execution names no target. */
export const DEFAULT_BREAKER_TARGET = 'default';

/** State of one breaker. */
export type CircuitState = BreakerState;

/** Per-call options of {@link CircuitBreakerPool.execute}. */
export interface BreakerExecuteOptions {
  /** The call's signal: an abort that is not a deadline is not counted against the target. */
  readonly signal?: AbortSignal | undefined;
}

/**
 * One opossum circuit breaker per target (service + instance), created on first use and dropped
 * once idle. Used alone by transports (`execute(instanceKey, fn)`) or as the breaker layer of a
 * policy, keyed by each attempt's target.
 *
 * @example
 * await using breakers = createCircuitBreakerPool();
 * if (!breakers.isOpen(key)) await breakers.execute(key, () => send(key), { signal });
 */
export interface CircuitBreakerPool extends PolicyLayer {
  readonly kind: 'circuitBreaker';
  /** Number of live breakers. */
  readonly size: number;
  /**
   * Runs `fn` through the breaker of `target`.
   * @throws RefrontError UNAVAILABLE `RESILIENCE_CIRCUIT_OPEN` (retryable, unprocessed, naming the
   *   target) when the breaker is open or its one probe is in flight; UNAVAILABLE `CORE_CLOSED` (not
   *   retryable) after `close()`; whatever `fn` throws otherwise.
   */
  execute<T>(target: string, fn: () => Promise<T>, options?: BreakerExecuteOptions): Promise<T>;
  /** The state of `target`'s breaker, or undefined when the pool holds none for it. */
  state(target: string): CircuitState | undefined;
  /** Whether a call to `target` would fail fast now (lets a load balancer skip the instance). */
  isOpen(target: string): boolean;
  /** Shuts every breaker down and stops the pool's timer; later calls fail with `CORE_CLOSED`. */
  close(): Promise<void>;
  /** Same as {@link CircuitBreakerPool.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/**
 * Creates a pool of circuit breakers, one per target, on opossum: a breaker opens when more than
 * `errorThresholdPercentage` of at least `volumeThreshold` calls in the rolling window failed,
 * fails fast while open, lets one probe through after `resetTimeoutMs` (half-open) and closes
 * when the probe succeeds. Only failures of the target count (see `failureStatuses`); the
 * caller's own cancellations do not. One timer per pool drives every breaker's window.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for out-of-range thresholds, windows or durations.
 * @example
 * const breakers = createCircuitBreakerPool({ resetTimeoutMs: 5_000 });
 * const reply = await breakers.execute('tickets/10.0.0.7:50051', () => send(request, signal), { signal });
 */
export function createCircuitBreakerPool(options: CircuitBreakerOptions = {}): CircuitBreakerPool {
  const settings = resolveBreakerOptions(options);
  const pool = new BreakerPool(settings);
  recordFailureStatuses(pool, settings.failureStatuses);
  return defineLayer(pool, (inner) => pool.bind(inner));
}

class BreakerPool implements CircuitBreakerPool {
  readonly kind = 'circuitBreaker' as const;
  readonly events = new ResilienceEvents();
  private readonly breakers = new Map<string, TargetBreaker>();
  /** Rotates every breaker's window from one timer instead of one timer per breaker. */
  private readonly rotator = new EventEmitter();
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(private readonly s: BreakerSettings) {
    this.rotator.setMaxListeners(0);
  }

  get size(): number {
    return this.breakers.size;
  }

  execute<T>(target: string, fn: () => Promise<T>, options?: BreakerExecuteOptions): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.guard(target, options?.signal, runPlain<T>, fn, undefined, { ok: resolve, fail: reject }),
    );
  }

  bind(inner: Step): Step {
    return <T>(fn: AttemptFn<T>, x: Execution, sink: Sink<T>): void => {
      let target: string;
      try {
        target = targetOf(x) ?? DEFAULT_BREAKER_TARGET;
      } catch (e: unknown) {
        sink.fail(e);
        return;
      }
      this.guard(target, x, inner<T>, fn, x, sink);
    };
  }

  state(target: string): CircuitState | undefined {
    return this.breakers.get(target)?.state;
  }

  isOpen(target: string): boolean {
    return this.breakers.get(target)?.isOpen === true;
  }

  /** @internal Latencies the breaker of `target` holds in its window (tests check it holds none). */
  latenciesHeld(target: string): number {
    return this.breakers.get(target)?.latenciesHeld() ?? 0;
  }

  /** @internal The counts of `target`'s window (tests check every call is counted once). */
  windowCounts(target: string): { fires: number; successes: number; failures: number } | undefined {
    return this.breakers.get(target)?.windowCounts();
  }

  close(): Promise<void> {
    this.closed = true;
    for (const breaker of this.breakers.values()) breaker.shutdown();
    this.breakers.clear();
    this.stopTimer();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** Runs `call(a, b, sink)` through the breaker of `target`, made on first use; never throws. */
  private guard<A, B, T>(
    target: string,
    abort: CallAbort,
    call: (a: A, b: B, sink: Sink<T>) => void,
    a: A,
    b: B,
    sink: Sink<T>,
  ): void {
    if (this.closed) {
      sink.fail(CoreErrors.CLOSED.with({ unprocessed: true }, 'the circuit breaker pool'));
      return;
    }
    this.breakerFor(target).run(call, a, b, abort, sink);
  }

  private breakerFor(target: string): TargetBreaker {
    const existing = this.breakers.get(target);
    if (existing) return existing;
    const breaker = new TargetBreaker(target, this.s, this.rotator, this.events);
    this.breakers.set(target, breaker);
    this.startTimer();
    return breaker;
  }

  private startTimer(): void {
    if (this.timer) return;
    const bucketMs = Math.floor(this.s.rollingWindowMs / this.s.rollingBuckets);
    this.timer = setInterval(() => this.tick(), bucketMs);
    this.timer.unref();
  }

  private stopTimer(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Rotates every window by one bucket and drops breakers idle for longer than `idleTtlMs`. */
  private tick(): void {
    this.rotator.emit('rotate');
    const oldest = Date.now() - this.s.idleTtlMs;
    for (const [target, breaker] of this.breakers) {
      breaker.rotated();
      if (breaker.inFlight === 0 && breaker.lastUsed < oldest) {
        breaker.shutdown();
        this.breakers.delete(target);
      }
    }
    if (this.breakers.size === 0) this.stopTimer();
  }
}

/** The plain form of a guarded call (see `CircuitBreakerPool.execute`). */
function runPlain<T>(fn: () => Promise<T>, _unused: undefined, sink: Sink<T>): void {
  fn().then(
    (value) => sink.ok(value),
    (e: unknown) => sink.fail(e),
  );
}
