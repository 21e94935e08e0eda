import type { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import type { BreakerSettings } from '../CircuitBreakerOptions.js';
import { ResilienceErrors, ResilienceReason } from '../errors.js';
import { isTargetFailure } from '../failureStatuses.js';
import type { ResilienceEvents } from '../ResilienceEvents.js';
import { raceAbort } from './abort.js';
import { Execution, type Sink } from './Execution.js';
import { keepNoLatencies, latenciesHeld, type WindowCounter, windowCounterOf } from './opossumInternals.js';

/** What cancels a guarded call: the caller's signal, or a policy's execution (whose signal is made only when read). */
export type CallAbort = AbortSignal | Execution | undefined;

/** What opossum runs: the call, and what cancels it (for the probe's race and the failure's verdict). */
type Action = (run: () => Promise<unknown>, abort: CallAbort) => Promise<unknown>;

/** The state of a breaker, as the pool reports it. */
export type BreakerState = 'closed' | 'open' | 'halfOpen';

/**
 * The breaker of one target: an opossum breaker, which owns the state machine, the rolling
 * window, the threshold and the half-open probe, plus what the pool needs around it (calls in
 * flight, last use, typed events and errors, the failure classification).
 *
 * Calls go through opossum's `fire`, except the calls of a closed breaker that end well: those run
 * directly and are counted on the window (`WindowCounter`), which is all `fire` would have done
 * for them at several times the cost. A call of a closed breaker that fails the target is handed
 * to `fire` when it fails, so opossum counts it and decides whether to open, by its own rule; the
 * caller hears of the failure once that is done.
 */
export class TargetBreaker {
  /** Calls started and not yet reported. */
  inFlight = 0;
  /** When the last call started (`Date.now()`). */
  lastUsed = Date.now();
  private readonly breaker: CircuitBreaker<Parameters<Action>, unknown>;
  private readonly counter: WindowCounter | undefined;

  constructor(
    readonly target: string,
    private readonly s: BreakerSettings,
    rotator: EventEmitter,
    private readonly events: ResilienceEvents,
  ) {
    const action: Action = (run, abort) => {
      // The probe of a half-open breaker must settle even if the operation ignores its signal,
      // or the breaker would stay half-open, refusing everything, for as long as it hangs.
      const signal = this.breaker.halfOpen ? signalOf(abort) : undefined;
      const ran = signal ? raceAbort(run(), signal) : run();
      // Judged here, where the call's abort state is known; `errorFilter` reads the verdict.
      return ran.then(undefined, (e: unknown) => {
        throw new Failed(e, this.isFailure(e, abort));
      });
    };
    this.breaker = new CircuitBreaker(action, {
      name: target,
      timeout: false,
      resetTimeout: s.resetTimeoutMs,
      errorThresholdPercentage: s.errorThresholdPercentage,
      volumeThreshold: s.volumeThreshold,
      rollingCountTimeout: s.rollingWindowMs,
      rollingCountBuckets: s.rollingBuckets,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      rotateBucketController: rotator,
      errorFilter: (e: unknown) => e instanceof Failed && !e.counts,
    });
    this.breaker.on('open', () => events.emit({ type: 'breakerOpen', target }));
    this.breaker.on('halfOpen', () => events.emit({ type: 'breakerHalfOpen', target }));
    this.breaker.on('close', () => events.emit({ type: 'breakerClose', target }));
    this.counter = windowCounterOf(this.breaker);
    keepNoLatencies(this.breaker);
  }

  /**
   * Runs `call(a, b, sink)` through the breaker (two plain arguments instead of a closure, so the
   * policy layer allocates nothing extra per attempt); reports to `sink` once, never throws. A
   * refusal is `UNAVAILABLE RESILIENCE_CIRCUIT_OPEN` naming the target, with a `rejected` event.
   */
  run<A, B, T>(call: (a: A, b: B, sink: Sink<T>) => void, a: A, b: B, abort: CallAbort, sink: Sink<T>): void {
    this.inFlight++;
    this.lastUsed = Date.now();
    if (this.counter && this.breaker.closed) {
      const counted = new Counted(this, this.counter, abort, sink);
      try {
        call(a, b, counted);
      } catch (e: unknown) {
        counted.fail(e);
      }
      return;
    }
    const run = (): Promise<T> =>
      new Promise<T>((resolve, reject) => call(a, b, { ok: resolve, fail: reject }));
    this.fire(run, abort).then(
      (value) => {
        this.inFlight--;
        sink.ok(value as T);
      },
      (e: unknown) => {
        this.inFlight--;
        sink.fail(e instanceof Failed ? e.error : this.refusal(e));
      },
    );
  }

  /** @internal {@link Counted}: a call of the closed breaker failed with `e`. */
  failed<T>(e: unknown, abort: CallAbort, sink: Sink<T>, counter: WindowCounter): void {
    if (!this.isFailure(e, abort)) {
      // An answer, as opossum's `errorFilter` makes it: a success of the target.
      this.inFlight--;
      counter.countSuccess();
      sink.fail(e);
      return;
    }
    const report = (): void => {
      this.inFlight--;
      sink.fail(e);
    };
    // Whatever `fire` makes of it (counted, or refused because the breaker opened meanwhile), the
    // caller gets the call's own error.
    this.fire(() => Promise.reject(e), abort).then(report, report);
  }

  /** The breaker's state. */
  get state(): BreakerState {
    const b = this.breaker;
    return b.opened ? 'open' : b.halfOpen ? 'halfOpen' : 'closed';
  }

  /** Whether a call would fail fast now: open, or half-open with its one probe in flight. */
  get isOpen(): boolean {
    const b = this.breaker;
    return b.opened || (b.halfOpen && !b.pendingClose);
  }

  /** The counts of the rolling window. */
  windowCounts(): { fires: number; successes: number; failures: number } {
    const { fires, successes, failures } = this.breaker.stats;
    return { fires, successes, failures };
  }

  /** Latencies held in the window (none, unless opossum changed; see `opossumInternals`). */
  latenciesHeld(): number {
    return latenciesHeld(this.breaker);
  }

  /** The pool rotated every window by one bucket: the new current bucket keeps no latencies either. */
  rotated(): void {
    keepNoLatencies(this.breaker);
  }

  /** Stops the breaker's timers and listeners; later calls are refused. */
  shutdown(): void {
    this.breaker.shutdown();
  }

  private fire(run: () => Promise<unknown>, abort: CallAbort): Promise<unknown> {
    try {
      return this.breaker.fire(run, abort);
    } catch (e: unknown) {
      return Promise.reject(e);
    }
  }

  private refusal(e: unknown): unknown {
    if (!(e instanceof Error) || !CircuitBreaker.isOurError(e)) return e;
    // Unprocessed: the call never left this process, so a retry may go elsewhere whatever the operation.
    const error = ResilienceErrors.CIRCUIT_OPEN.with(
      { unprocessed: true, cause: e, details: { metadata: { target: this.target } } },
      this.target,
    );
    this.events.emit({ type: 'rejected', target: this.target, reason: ResilienceReason.CIRCUIT_OPEN, error });
    return error;
  }

  /** Whether `e` counts against the target (see `isTargetFailure`); reads no signal into being. */
  private isFailure(e: unknown, abort: CallAbort): boolean {
    const aborted = abort instanceof Execution ? abort.aborted : abort?.aborted === true;
    const reason = !aborted ? undefined : abort instanceof Execution ? abort.abortReason : abort?.reason;
    return isTargetFailure(e, this.s.failureStatuses, aborted, reason, this.breaker.halfOpen);
  }
}

/** How a call that went through `fire` failed, and whether that counts against the target. */
class Failed {
  constructor(
    readonly error: unknown,
    readonly counts: boolean,
  ) {}
}

function signalOf(abort: CallAbort): AbortSignal | undefined {
  return abort instanceof Execution ? abort.signal : abort;
}

/** The sink of one call of a closed breaker: counts its outcome once, then reports outward. */
class Counted<T> implements Sink<T> {
  private done = false;

  constructor(
    private readonly breaker: TargetBreaker,
    private readonly counter: WindowCounter,
    private readonly abort: CallAbort,
    private readonly sink: Sink<T>,
  ) {}

  ok(value: T): void {
    if (this.done) return;
    this.done = true;
    this.breaker.inFlight--;
    this.counter.countSuccess();
    this.sink.ok(value);
  }

  fail(e: unknown): void {
    if (this.done) return;
    this.done = true;
    this.breaker.failed(e, this.abort, this.sink, this.counter);
  }
}
