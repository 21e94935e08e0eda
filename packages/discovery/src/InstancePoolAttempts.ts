import type { ServiceInstance } from '@refront/core';
import type { Pick } from './Balancer.js';

/**
 * One picked instance with its connection, for one attempt.
 *
 * @example
 * const { key, pick, connection } = pool.pick();
 * call.target = key; // `tickets/10.0.0.7:50051`
 */
export interface PooledInstance<C> {
  /** `service/address:port`: the attempt's target, the key of its circuit breaker. */
  readonly key: string;
  /** The balancer's pick: call `pick.done(ok)` once when the attempt ends. */
  readonly pick: Pick;
  /** The instance's connection, shared by every call to it. */
  readonly connection: C;
}

/** What {@link InstancePicks} needs of a pool: a pick that can pass over one instance. */
export interface InstancePicker<C> {
  pick(avoid?: ServiceInstance): PooledInstance<C>;
}

/**
 * The instance picks of one call run by a resilience policy: an instance per attempt, so the
 * policy's breaker layer guards the instance each attempt calls and a retry goes elsewhere. A
 * transport's per-call object extends it (no closure or promise per call); {@link InstanceAttempts}
 * wraps it for promise-based callers.
 *
 * @example
 * class OutgoingCall extends InstancePicks<Client> implements PolicyCall<Buffer> {
 *   attempt(ctx, done) { this.send(this.take(), ctx, done); } // pickTarget's choice, else a new pick
 *   answered(res) { this.settle(true); this.done.ok(res); } // and settle(false) on the instance's failure
 *   fail(e) { this.abandon(); this.reply.fail(e); }
 * }
 */
export class InstancePicks<C> {
  /** Picked by `pickTarget`, not yet taken by an attempt (its breaker may still refuse it). */
  private pending: PooledInstance<C> | undefined = undefined;
  /** The instance of the last pick: the next pick passes it over while another is available. */
  private last: ServiceInstance | undefined = undefined;
  /** The pick of the attempt in flight. */
  private current: PooledInstance<C> | undefined = undefined;

  /** @param picker the pool, or undefined for a call to one fixed target (every method is then a no-op). */
  constructor(private readonly picker: InstancePicker<C> | undefined) {}

  /**
   * Give it to the policy as `pickTarget`: picks the next attempt's instance, passing over the one
   * the previous attempt went to while another is available, and returns its key (undefined
   * without a pool). A pick no attempt took (its breaker refused) ends as a failure of that instance.
   * @throws RefrontError UNAVAILABLE `DISCOVERY_NO_INSTANCES`; UNAVAILABLE `CORE_CLOSED` (not retryable).
   */
  pickTarget(): string | undefined {
    const picker = this.picker;
    if (!picker) return undefined;
    this.pending?.pick.done(false);
    this.pending = undefined;
    const next = this.next(picker);
    this.pending = next;
    return next.key;
  }

  /**
   * The instance of the attempt starting now (the one `pickTarget` chose, else a new pick), in
   * flight until {@link settle}; undefined without a pool.
   * @throws RefrontError as `pickTarget`, when nothing was picked yet.
   */
  take(): PooledInstance<C> | undefined {
    const picker = this.picker;
    if (!picker) return undefined;
    const taken = this.pending ?? this.next(picker);
    this.pending = undefined;
    this.current = taken;
    return taken;
  }

  /** Ends the pick of the attempt in flight: `ok` when its instance did its part (once per attempt). */
  settle(ok: boolean): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    current.pick.done(ok);
  }

  /** The call is over: a pick no attempt took ends as a failure of its instance. */
  abandon(): void {
    this.pending?.pick.done(false);
    this.pending = undefined;
  }

  private next(picker: InstancePicker<C>): PooledInstance<C> {
    const next = picker.pick(this.last);
    this.last = next.pick.instance;
    return next;
  }
}

/**
 * The picks of one call for a promise-based caller (see {@link InstancePicks} for the per-call
 * object transports extend).
 *
 * @example
 * const attempts = pool.attempts();
 * await policy
 *   .execute((ctx) => send(attempts.take(), ctx), { signal, pickTarget: attempts.pickTarget })
 *   .then(undefined, attempts.abandon);
 */
export interface InstanceAttempts<C> {
  /** Give it to the policy as `pickTarget` (see {@link InstancePicks.pickTarget}). */
  readonly pickTarget: (attempt: number) => string;
  /**
   * The instance of the attempt starting now (the one `pickTarget` chose, else a new pick). The
   * attempt owns it: it calls `pick.done(ok)` once when it ends.
   * @throws RefrontError as `pickTarget`, when nothing was picked yet.
   */
  take(): PooledInstance<C>;
  /** Give it to the call's promise as its rejection handler: ends a pick no attempt took as a failure, then rethrows. */
  readonly abandon: (error: unknown) => never;
}

/** One call's picks for a promise-based caller; its two handlers are made once per call. */
export class Attempts<C> implements InstanceAttempts<C> {
  private readonly picks: InstancePicks<C>;

  constructor(pool: InstancePicker<C>) {
    this.picks = new InstancePicks(pool);
  }

  readonly pickTarget = (): string => this.picks.pickTarget() as string;

  take(): PooledInstance<C> {
    return this.picks.take() as PooledInstance<C>;
  }

  readonly abandon = (error: unknown): never => {
    this.picks.abandon();
    throw error;
  };
}
