import type { ServiceInstance } from '@refront/core';
import type { PooledInstance } from './InstancePool.js';

/**
 * The picks of one call run by a resilience policy: an instance per attempt, so the policy's
 * breaker layer guards the instance each attempt calls and a retry goes elsewhere.
 *
 * @example
 * const attempts = pool.attempts();
 * await policy
 *   .execute((ctx) => send(attempts.take(), ctx), { signal, pickTarget: attempts.pickTarget })
 *   .then(undefined, attempts.abandon);
 */
export interface InstanceAttempts<C> {
  /**
   * Give it to the policy as `pickTarget`: picks the next attempt's instance, passing over the one
   * the previous attempt went to while another is available, and returns its key. A pick no
   * attempt took (its breaker refused) ends as a failure of that instance.
   * @throws RefrontError UNAVAILABLE `DISCOVERY_NO_INSTANCES`; FAILED_PRECONDITION `CORE_CLOSED`.
   */
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

/** One call's picks; its two handlers are made once per call, so attempts allocate nothing more. */
export class Attempts<C> implements InstanceAttempts<C> {
  /** Picked by `pickTarget`, not yet taken by an attempt. */
  private pending: PooledInstance<C> | undefined = undefined;
  /** The instance of the last pick: the next one passes it over. */
  private last: ServiceInstance | undefined = undefined;

  constructor(private readonly pool: { pick(avoid?: ServiceInstance): PooledInstance<C> }) {}

  readonly pickTarget = (): string => {
    // Its attempt never ran (the breaker refused): a failure of that instance.
    this.pending?.pick.done(false);
    this.pending = undefined;
    const next = this.next();
    this.pending = next;
    return next.key;
  };

  take(): PooledInstance<C> {
    const taken = this.pending ?? this.next();
    this.pending = undefined;
    return taken;
  }

  readonly abandon = (error: unknown): never => {
    this.pending?.pick.done(false);
    this.pending = undefined;
    throw error;
  };

  private next(): PooledInstance<C> {
    const next = this.pool.pick(this.last);
    this.last = next.pick.instance;
    return next;
  }
}
