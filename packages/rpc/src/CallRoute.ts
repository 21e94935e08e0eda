import type { InstancePool, InstancePoolOptions } from '@refront/discovery';
import type { ResiliencePolicy } from '@refront/resilience';

/**
 * How a lane opens and closes its connections (`C`): to the fixed target, or to each instance
 * discovery finds. The functions are called unbound.
 *
 * @example
 * const connector: Connector<Endpoint> = {
 *   dial: (target) => endpoint(parseTarget(target)),
 *   connect: (instance) => endpoint(instance),
 *   close: (e) => e.close(5_000),
 *   isDown: (e) => e.down,
 * };
 */
export interface Connector<C> extends Pick<InstancePoolOptions<C>, 'connect' | 'close' | 'isDown'> {
  /**
   * The connection to the fixed `target`, made when the channel is.
   * @throws RefrontError `CORE_INVALID_OPTION` for a target the lane cannot dial.
   */
  readonly dial: (target: string) => C;
  /** Called once the channel closed every connection (stop the lane's shared timers). @default nothing */
  readonly closed?: () => void;
}

/** What an outgoing call needs of its channel: `C` is a connection, `K` the lane's {@link Connector}. */
export interface CallRoute<C, K extends Connector<C> = Connector<C>> {
  /** The instances (discovery), or undefined with one fixed target. */
  readonly pool: InstancePool<C> | undefined;
  /** The connection of the fixed target, when there is no pool. */
  readonly single: C | undefined;
  /** The service (discovery) or target name. */
  readonly name: string;
  /** The policy calls run under: its breaker's `failureStatuses` decide what counts against an instance. */
  readonly policy: ResiliencePolicy | undefined;
  /** The lane's connector, as it made it. */
  readonly connector: K;
}
