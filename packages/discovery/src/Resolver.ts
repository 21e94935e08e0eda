import { createLogger, type Logger, type Registry, type ServiceInstance } from '@refront/core';
import { type Balancer, type BalancerOptions, createBalancer, type Pick } from './Balancer.js';
import { closedError } from './errors.js';

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

interface Tracked {
  readonly balancer: Balancer;
  ready: boolean;
  first: Promise<void> | undefined;
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
  const tracked = new Map<string, Tracked>();
  const closed = new AbortController();
  const watches: Promise<void>[] = [];

  const follow = async (service: string, t: Tracked): Promise<void> => {
    try {
      for await (const set of registry.watch(service, { signal: closed.signal })) apply(t, set);
    } catch (e: unknown) {
      if (!closed.signal.aborted)
        logger.warn({ err: e, target: service }, 'discovery watch ended with an error');
    }
  };
  const apply = (t: Tracked, set: readonly ServiceInstance[]): void => {
    t.balancer.update(set);
    t.ready = true;
  };

  const track = (service: string): Tracked => {
    let t = tracked.get(service);
    if (!t) {
      t = { balancer: createBalancer({ ...options.balancer, service }), ready: false, first: undefined };
      tracked.set(service, t);
      watches.push(follow(service, t));
    }
    return t;
  };

  const firstResolve = (service: string, t: Tracked): Promise<void> => {
    t.first ??= registry.resolve(service, { signal: closed.signal }).then(
      (set) => {
        if (!t.ready) apply(t, set);
      },
      (e: unknown) => {
        t.first = undefined;
        throw e;
      },
    );
    return t.first;
  };

  const close = async (): Promise<void> => {
    closed.abort();
    await Promise.allSettled(watches);
  };

  return {
    async pick(service, pickOptions = {}) {
      if (closed.signal.aborted) throw closedError('the resolver');
      pickOptions.signal?.throwIfAborted();
      const t = track(service);
      if (!t.ready) await waitFor(firstResolve(service, t), pickOptions.signal);
      return t.balancer.pick();
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Awaits `p`, or rejects with `signal.reason` as soon as the signal aborts. */
function waitFor<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
