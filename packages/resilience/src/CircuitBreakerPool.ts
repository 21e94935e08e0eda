import { EventEmitter } from 'node:events';
import { CoreReason, isRefrontError, RefrontError, type Status, toRefrontError } from '@refront/core';
import { invalidOption, isStatus } from '@refront/core/transport';
import CircuitBreaker from 'opossum';
import { circuitOpenError, ResilienceReason } from './errors.js';
import { raceAbort } from './internal/abort.js';
import {
  type AttemptFn,
  defineLayer,
  Execution,
  type Sink,
  type Step,
  targetOf,
} from './internal/Execution.js';
import { requireInteger, requireRange } from './internal/validate.js';
import type { PolicyLayer } from './PolicyLayer.js';
import { ResilienceEvents } from './ResilienceEvents.js';

/** Error rate (percent of calls in the window) above which a breaker opens. */
export const DEFAULT_ERROR_THRESHOLD_PERCENTAGE = 50;
/** Calls the window must hold before the error rate can open a breaker. */
export const DEFAULT_VOLUME_THRESHOLD = 20;
/** Length of the rolling window, in ms. */
export const DEFAULT_ROLLING_WINDOW_MS = 10_000;
/** Buckets the rolling window is cut into. */
export const DEFAULT_ROLLING_BUCKETS = 10;
/** How long a breaker stays open before it lets one probe through, in ms. */
export const DEFAULT_RESET_TIMEOUT_MS = 10_000;
/** How long a breaker may go unused (and with no call in flight) before the pool drops it, in ms. */
export const DEFAULT_BREAKER_IDLE_TTL_MS = 300_000;
/** Statuses that count as a failure of the target; the others (NOT_FOUND, INVALID_ARGUMENT…) are answers. */
export const DEFAULT_FAILURE_STATUSES: readonly Status[] = [
  'UNAVAILABLE',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'INTERNAL',
  'UNKNOWN',
  'DATA_LOSS',
];

const INSTANCE_FAILURES: ReadonlySet<Status> = new Set(DEFAULT_FAILURE_STATUSES);

/** The `failureStatuses` of each breaker pool, and of each policy composed with one. */
const failureStatusesOf = new WeakMap<object, ReadonlySet<Status>>();

/** @internal `policy()` records its breaker layer's statuses under the policy it makes. */
export function inheritFailureStatuses(policy: object, layers: readonly object[]): void {
  for (const layer of layers) {
    const statuses = failureStatusesOf.get(layer);
    if (statuses) failureStatusesOf.set(policy, statuses);
  }
}

/**
 * Whether `error` counts against the instance that answered it (what a transport reports to its
 * balancer's outlier detection): by the `failureStatuses` of `policy`'s breaker layer, so the
 * balancer and the breaker agree, else by {@link DEFAULT_FAILURE_STATUSES}. Anything else,
 * including an error that is not a `RefrontError`, is an answer, not the instance's fault.
 *
 * @example
 * pick.done(!isInstanceFailure(error, channel.policy));
 */
export function isInstanceFailure(error: unknown, policy?: object): boolean {
  if (!isRefrontError(error)) return false;
  const statuses = (policy && failureStatusesOf.get(policy)) || INSTANCE_FAILURES;
  return statuses.has(error.status);
}
/** The key used in a policy when an execution names no target. */
export const DEFAULT_BREAKER_TARGET = 'default';

/** Options of {@link createCircuitBreakerPool}. */
export interface CircuitBreakerOptions {
  /** Error rate in percent of the window's calls above which a breaker opens (1…100). @default 50 */
  readonly errorThresholdPercentage?: number;
  /** Minimum calls in the window before a breaker may open. @default 20 */
  readonly volumeThreshold?: number;
  /** Length of the rolling window, in ms. @default 10_000 */
  readonly rollingWindowMs?: number;
  /** Buckets of the rolling window; `rollingWindowMs / rollingBuckets` is its resolution. @default 10 */
  readonly rollingBuckets?: number;
  /** Time a breaker stays open before it half-opens and lets one probe through, in ms. @default 10_000 */
  readonly resetTimeoutMs?: number;
  /** Time an unused breaker (no call in flight) is kept, in ms; then it is dropped. @default 300_000 */
  readonly idleTtlMs?: number;
  /**
   * Statuses that count as failures of the target, a fired deadline included (it counts only
   * when `DEADLINE_EXCEEDED` is listed). The balancers of the mux and gRPC channels count the same
   * (`isInstanceFailure`). @default DEFAULT_FAILURE_STATUSES
   */
  readonly failureStatuses?: readonly Status[];
}

/** State of one breaker. */
export type CircuitState = 'closed' | 'open' | 'halfOpen';

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
   * @throws RefrontError UNAVAILABLE `RESILIENCE_CIRCUIT_OPEN` (retryable, naming the target) when
   *   the breaker is open or its one probe is in flight; whatever `fn` throws otherwise.
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

interface Settings {
  readonly errorThresholdPercentage: number;
  readonly volumeThreshold: number;
  readonly rollingWindowMs: number;
  readonly rollingBuckets: number;
  readonly resetTimeoutMs: number;
  readonly idleTtlMs: number;
  readonly failureStatuses: ReadonlySet<Status>;
}

function resolve(options: CircuitBreakerOptions): Settings {
  const rollingWindowMs = requireInteger(
    'rollingWindowMs',
    options.rollingWindowMs ?? DEFAULT_ROLLING_WINDOW_MS,
    1,
  );
  const rollingBuckets = requireInteger(
    'rollingBuckets',
    options.rollingBuckets ?? DEFAULT_ROLLING_BUCKETS,
    1,
  );
  if (rollingWindowMs / rollingBuckets < 1)
    throw invalidOption('rollingWindowMs / rollingBuckets must be >= 1 ms');
  const failureStatuses = new Set(options.failureStatuses ?? DEFAULT_FAILURE_STATUSES);
  for (const s of failureStatuses) {
    if (!isStatus(s)) throw invalidOption(`failureStatuses has an unknown status ${String(s)}`);
  }
  return {
    errorThresholdPercentage: requireRange(
      'errorThresholdPercentage',
      options.errorThresholdPercentage ?? DEFAULT_ERROR_THRESHOLD_PERCENTAGE,
      1,
      100,
    ),
    volumeThreshold: requireInteger(
      'volumeThreshold',
      options.volumeThreshold ?? DEFAULT_VOLUME_THRESHOLD,
      0,
    ),
    rollingWindowMs,
    rollingBuckets,
    resetTimeoutMs: requireInteger('resetTimeoutMs', options.resetTimeoutMs ?? DEFAULT_RESET_TIMEOUT_MS, 1),
    idleTtlMs: requireInteger('idleTtlMs', options.idleTtlMs ?? DEFAULT_BREAKER_IDLE_TTL_MS, 1),
    failureStatuses,
  };
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
  const settings = resolve(options);
  const pool = new BreakerPool(settings);
  failureStatusesOf.set(pool, settings.failureStatuses);
  return defineLayer(pool, (inner) => pool.bind(inner));
}

interface Entry {
  readonly breaker: CircuitBreaker<[() => Promise<unknown>, AbortSignal | undefined], unknown>;
  /** The breaker's window counter, when opossum exposes it (see `windowCounterOf`). */
  readonly counter: WindowCounter | undefined;
  inFlight: number;
  lastUsed: number;
}

/** What opossum's `Status` does for the breaker's own `fire` and `success` listeners. */
interface WindowCounter {
  increment(property: 'fires' | 'successes', latencyMs?: number): void;
}

/**
 * The counter behind a breaker's `fire` and `success` events: each opossum breaker listens to its
 * own events only to call `status.increment(property)`, so counting there directly does the same
 * for the calls of a closed breaker without an event dispatch (two per call). Undefined when an
 * opossum version lacks it; the pool then emits the events.
 */
function windowCounterOf(breaker: CircuitBreaker): WindowCounter | undefined {
  const status = breaker.status as unknown as Partial<WindowCounter>;
  return typeof status.increment === 'function' ? (status as WindowCounter) : undefined;
}

class BreakerPool implements CircuitBreakerPool {
  readonly kind = 'circuitBreaker' as const;
  readonly events = new ResilienceEvents();
  private readonly entries = new Map<string, Entry>();
  /** Rotates every breaker's window from one timer instead of one timer per breaker. */
  private readonly rotator = new EventEmitter();
  private timer: ReturnType<typeof setInterval> | undefined;
  private closed = false;

  constructor(private readonly s: Settings) {
    this.rotator.setMaxListeners(0);
  }

  get size(): number {
    return this.entries.size;
  }

  execute<T>(target: string, fn: () => Promise<T>, options?: BreakerExecuteOptions): Promise<T> {
    return new Promise<T>((resolve, reject) =>
      this.guard(target, options?.signal, runPlain<T>, fn, undefined, { ok: resolve, fail: reject }),
    );
  }

  /**
   * Runs `call(a, b, sink)` through the breaker of `target` (two plain arguments instead of a closure,
   * so the policy layer allocates nothing extra per attempt); reports to `sink`, never throws.
   *
   * A closed breaker takes the fast path: opossum's `fire` would build an argument array, a
   * promise, a semaphore ticket and two handlers per call to end up doing what is done here,
   * which is emitting `fire` and then `success` or `failure`, the events its rolling window
   * counts, and opening past the threshold. Open and half-open breakers go through `fire`, so
   * refusals and the one-probe protocol stay opossum's.
   */
  private guard<A, B, T>(
    target: string,
    signal: AbortSignal | Execution | undefined,
    call: (a: A, b: B, sink: Sink<T>) => void,
    a: A,
    b: B,
    sink: Sink<T>,
  ): void {
    if (this.closed) {
      sink.fail(
        new RefrontError('UNAVAILABLE', CoreReason.CLOSED, 'the circuit breaker pool is closed', {
          unprocessed: true,
        }),
      );
      return;
    }
    const entry = this.entryFor(target);
    const breaker = entry.breaker;
    entry.inFlight++;
    entry.lastUsed = Date.now();
    if (breaker.closed) {
      if (entry.counter) entry.counter.increment('fires');
      else breaker.emit('fire');
      const counted = new Counted(this, entry, signal, sink);
      try {
        call(a, b, counted);
      } catch (e: unknown) {
        counted.fail(e);
      }
      return;
    }
    const run = (): Promise<T> =>
      new Promise<T>((resolve, reject) => call(a, b, { ok: resolve, fail: reject }));
    let fired: Promise<T>;
    try {
      fired = breaker.fire(run, signal instanceof Execution ? signal.signal : signal) as Promise<T>;
    } catch (e: unknown) {
      fired = Promise.reject(e);
    }
    fired.then(
      (value) => {
        entry.inFlight--;
        sink.ok(value);
      },
      (e: unknown) => {
        entry.inFlight--;
        sink.fail(this.mapError(e, target));
      },
    );
  }

  /**
   * Counts a failed call of the fast path as opossum's own `call` would: a filtered error is a
   * success; a failure is counted and opens the breaker past the threshold (at the minimum
   * volume), or at once when the breaker went half-open meanwhile.
   */
  /** @internal called by {@link Counted} */
  record(
    breaker: Entry['breaker'],
    e: unknown,
    from: AbortSignal | Execution | undefined,
    latency: number,
  ): void {
    // An Execution's signal is read only now, on failure, so a success never creates it.
    const signal = from instanceof Execution ? from.signal : from;
    if (!this.isFailure(e, signal, breaker)) {
      breaker.emit('success', e, latency);
      return;
    }
    breaker.emit('failure', e, latency);
    if (breaker.warmUp) return;
    const stats = breaker.stats;
    if (stats.fires < breaker.volumeThreshold && !breaker.halfOpen) return;
    if ((stats.failures / stats.fires) * 100 > this.s.errorThresholdPercentage || breaker.halfOpen) {
      breaker.open();
    }
  }

  /** @internal Latencies the breaker of `target` holds in its window (tests check it holds none). */
  latenciesHeld(target: string): number {
    const b = this.entries.get(target)?.breaker;
    if (!b) return 0;
    let n = 0;
    for (const bucket of b.status.window as Array<{ latencyTimes?: { length: number } }>)
      n += bucket.latencyTimes?.length ?? 0;
    return n;
  }

  /** @internal The counts of `target`'s window (tests check every call is counted once). */
  windowCounts(target: string): { fires: number; successes: number; failures: number } | undefined {
    const stats = this.entries.get(target)?.breaker.stats;
    return stats && { fires: stats.fires, successes: stats.successes, failures: stats.failures };
  }

  state(target: string): CircuitState | undefined {
    const b = this.entries.get(target)?.breaker;
    if (!b) return undefined;
    return b.opened ? 'open' : b.halfOpen ? 'halfOpen' : 'closed';
  }

  isOpen(target: string): boolean {
    const b = this.entries.get(target)?.breaker;
    return b !== undefined && (b.opened || (b.halfOpen && !b.pendingClose));
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

  close(): Promise<void> {
    this.closed = true;
    for (const entry of this.entries.values()) entry.breaker.shutdown();
    this.entries.clear();
    this.stopTimer();
    return Promise.resolve();
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private mapError(e: unknown, target: string): unknown {
    if (e instanceof Error && CircuitBreaker.isOurError(e)) {
      const error = circuitOpenError(target, e);
      this.events.emit({ type: 'rejected', target, reason: ResilienceReason.CIRCUIT_OPEN, error });
      return error;
    }
    return e;
  }

  private entryFor(target: string): Entry {
    const existing = this.entries.get(target);
    if (existing) return existing;
    const breaker = this.createBreaker(target);
    const entry: Entry = { breaker, counter: windowCounterOf(breaker), inFlight: 0, lastUsed: Date.now() };
    this.entries.set(target, entry);
    this.startTimer();
    return entry;
  }

  private createBreaker(target: string): Entry['breaker'] {
    const s = this.s;
    const breaker: Entry['breaker'] = new CircuitBreaker(
      // The probe of a half-open breaker must settle even if the operation ignores its signal,
      // or the breaker would stay half-open, refusing everything, for as long as it hangs.
      (run: () => Promise<unknown>, signal: AbortSignal | undefined) =>
        breaker.halfOpen && signal ? raceAbort(run(), signal) : run(),
      {
        name: target,
        timeout: false,
        resetTimeout: s.resetTimeoutMs,
        errorThresholdPercentage: s.errorThresholdPercentage,
        volumeThreshold: s.volumeThreshold,
        rollingCountTimeout: s.rollingWindowMs,
        rollingCountBuckets: s.rollingBuckets,
        rollingPercentilesEnabled: false,
        enableSnapshots: false,
        rotateBucketController: this.rotator,
        errorFilter: (e: unknown, _run?: unknown, signal?: AbortSignal) =>
          !this.isFailure(e, signal, breaker),
      },
    );
    breaker.on('open', () => this.events.emit({ type: 'breakerOpen', target }));
    breaker.on('halfOpen', () => this.events.emit({ type: 'breakerHalfOpen', target }));
    breaker.on('close', () => this.events.emit({ type: 'breakerClose', target }));
    keepNoLatencies(breaker);
    return breaker;
  }

  /**
   * Whether `e` counts against the target. An aborted call counts only when a deadline fired (the
   * target was too slow) and `DEADLINE_EXCEEDED` is one of `failureStatuses`, or when it was the
   * half-open probe (an unanswered probe proves nothing).
   */
  private isFailure(e: unknown, signal: AbortSignal | undefined, breaker: CircuitBreaker): boolean {
    if (signal?.aborted) {
      if (breaker.halfOpen) return true;
      const status = toRefrontError(signal.reason).status;
      return status === 'DEADLINE_EXCEEDED' && this.s.failureStatuses.has(status);
    }
    return this.s.failureStatuses.has(toRefrontError(e).status);
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
    for (const entry of this.entries.values()) keepNoLatencies(entry.breaker);
    const oldest = Date.now() - this.s.idleTtlMs;
    for (const [target, entry] of this.entries) {
      if (entry.inFlight === 0 && entry.lastUsed < oldest) {
        entry.breaker.shutdown();
        this.entries.delete(target);
      }
    }
    if (this.entries.size === 0) this.stopTimer();
  }
}

/** The plain form of a guarded call (see `CircuitBreakerPool.execute`). */
function runPlain<T>(fn: () => Promise<T>, _unused: undefined, sink: Sink<T>): void {
  fn().then(
    (value) => sink.ok(value),
    (e: unknown) => sink.fail(e),
  );
}

/** The sink of one call on a closed breaker: counts its outcome once in the breaker's window, then reports outward. */
class Counted<T> implements Sink<T> {
  private done = false;

  constructor(
    private readonly pool: BreakerPool,
    private readonly entry: Entry,
    private readonly signal: AbortSignal | Execution | undefined,
    private readonly sink: Sink<T>,
  ) {}

  ok(value: T): void {
    if (this.done) return;
    this.done = true;
    const entry = this.entry;
    entry.inFlight--;
    // The latency is 0: the pool keeps none (see keepNoLatencies), so no clock is read for it.
    if (entry.counter) entry.counter.increment('successes', 0);
    else entry.breaker.emit('success', value, 0);
    this.sink.ok(value);
  }

  fail(e: unknown): void {
    if (this.done) return;
    this.done = true;
    this.entry.inFlight--;
    this.pool.record(this.entry.breaker, e, this.signal, 0);
    this.sink.fail(e);
  }
}

/**
 * Keeps nothing of what opossum records for latency percentiles. opossum pushes every call's
 * latency into its current bucket even with percentiles off (as the pool sets them), so a breaker
 * held every latency of its whole window: at 50k calls/s, 500k numbers per target, which the
 * garbage collector walks again and again (a fifth of a client's CPU in the `chain` bench). The
 * counts the breaker decides on (fires, successes, failures) are untouched. Called for each new
 * current bucket: at creation and after every rotation, which the pool drives.
 */
function keepNoLatencies(breaker: CircuitBreaker): void {
  const current = (breaker.status.window as Array<{ latencyTimes?: unknown }>)[0];
  if (current && Array.isArray(current.latencyTimes)) current.latencyTimes = NO_LATENCIES;
}

/** A `latencyTimes` that keeps nothing (opossum only pushes to it while percentiles are off). */
const NO_LATENCIES: { readonly length: 0; push(): number } = Object.freeze({ length: 0, push: () => 0 });
