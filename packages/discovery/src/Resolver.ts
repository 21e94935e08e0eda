import { CoreErrors, createLogger, type Logger, type Registry } from '@refront/core';
import type { BalancerOptions, Pick } from './Balancer.js';
import { createInstancePool, type InstancePool } from './InstancePool.js';

/** Options of {@link createResolver}. */
export interface ResolverOptions {
  /** Options of the balancer made for each service (the service name is filled in). @default {} */
  readonly balancer?: Omit<BalancerOptions, 'service'>;
  /** Where a watch that ends unexpectedly is logged. @default a logger for `refront-discovery` */
  readonly logger?: Logger;
}

/** Picks instances of any service for a transport client, keeping each service's set fresh. */
export interface Resolver extends AsyncDisposable {
  /**
   * Picks an instance of `service`. The first call per service resolves once (concurrent first
   * calls share that one resolve); afterwards the set comes from one background watch.
   * @throws RefrontError UNAVAILABLE `DISCOVERY_NO_INSTANCES`, or the registry's error when the
   * first resolve fails; the caller's `signal.reason` when it aborts.
   */
  pick(service: string, options?: { readonly signal?: AbortSignal }): Promise<Pick>;
  /** Stops every watch; idempotent. */
  close(): Promise<void>;
}

/**
 * Creates the resolver a transport client uses: one watch and one balancer per service, shared
 * by every call, so a changed set never makes calls resolve again (no resolve storm).
 *
 * @example
 * await using resolver = createResolver(registry, { balancer: { strategy: 'least-outstanding' } });
 * const pick = await resolver.pick('tickets', { signal });
 * try { await callTickets(pick.instance); pick.done(true); } catch (e: unknown) { pick.done(false); throw e; }
 */
export function createResolver(registry: Registry, options: ResolverOptions = {}): Resolver {
  const logger = options.logger ?? createLogger({ service: 'refront-discovery' });
  const pools = new Map<string, InstancePool<undefined>>();
  let closed = false;

  // A pool with no connection per instance: its watch, first resolve and balancer are the point.
  const poolOf = (service: string): InstancePool<undefined> => {
    let pool = pools.get(service);
    if (!pool) {
      pool = createInstancePool({
        registry,
        service,
        connect: none,
        close: none,
        balancer: options.balancer,
        logger,
      });
      pools.set(service, pool);
    }
    return pool;
  };

  const close = async (): Promise<void> => {
    closed = true;
    await Promise.allSettled([...pools.values()].map((p) => p.close()));
  };

  return {
    async pick(service, pickOptions = {}) {
      if (closed) throw CoreErrors.CLOSED('the resolver');
      pickOptions.signal?.throwIfAborted();
      const pool = poolOf(service);
      if (!pool.isReady) await pool.whenReady(pickOptions.signal);
      return pool.pick().pick;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

function none(): undefined {
  return undefined;
}
