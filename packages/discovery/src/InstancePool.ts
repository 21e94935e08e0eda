import { CoreErrors, createLogger, type Logger, type Registry, type ServiceInstance } from '@refront/core';
import { type Balancer, type BalancerOptions, createBalancer, type Pick } from './Balancer.js';
import { Attempts, type InstanceAttempts, type PooledInstance } from './InstancePoolAttempts.js';
import { validateServiceName } from './internal/validate.js';

/**
 * Options of {@link createInstancePool}; `C` is the connection kept per instance.
 *
 * @example
 * const options: InstancePoolOptions<Endpoint> = {
 *   registry, service: 'tickets-mux', connect: (i) => new Endpoint(i.address, i.port), close: (e) => e.close(),
 *   isDown: (e) => e.down,
 * };
 */
export interface InstancePoolOptions<C> {
  /** Where the instances of `service` are. */
  readonly registry: Registry;
  /** The service name in `registry` (`tickets`). */
  readonly service: string;
  /**
   * Opens the connection of an instance, on its first pick (never during a resolve).
   * `hostPort` is `address:port`, with an IPv6 address in brackets (`[::1]:7070`).
   */
  readonly connect: (instance: ServiceInstance, hostPort: string) => C;
  /**
   * Closes a connection: when its instance leaves the set or moves to another address, and every
   * one on `close()`. A failure is logged, never thrown.
   */
  readonly close: (connection: C) => Promise<void> | void;
  /**
   * Whether a connection is down now (a call on it would fail at once); its instance is passed
   * over while another one is available. Called on every pick: keep it cheap. @default never down
   */
  readonly isDown?: ((connection: C) => boolean) | undefined;
  /** How instances are picked. @default least-outstanding with outlier detection */
  readonly balancer?: Omit<BalancerOptions, 'service'> | undefined;
  /** Where a watch that ends with an error and a failed close are logged. @default a logger for `refront-discovery` */
  readonly logger?: Logger | undefined;
}

/**
 * The instances of one service, each with its own connection: one registry watch feeds a
 * balancer, a connection is opened on an instance's first pick and closed when it leaves.
 *
 * @example
 * if (!pool.isReady) await pool.whenReady(signal);
 * const { pick, connection } = pool.pick();
 */
export interface InstancePool<C> extends AsyncDisposable {
  /** The service name in the registry. */
  readonly service: string;
  /** Whether the first set arrived, so `pick()` may run now (check it before `whenReady`, which allocates). */
  readonly isReady: boolean;
  /**
   * Resolves once the first set is known. Concurrent callers share one `resolve`; a failed one is
   * tried again by the next call. Starts the watch on first use.
   * @throws the registry's error; `signal.reason` when it aborts; RefrontError UNAVAILABLE `CORE_CLOSED` (not retryable) after `close()`.
   */
  whenReady(signal?: AbortSignal): Promise<void>;
  /**
   * Picks an instance and returns it with its connection (opened now on its first pick). Instances
   * whose connection is down, and `avoid` (the instance a failed attempt went to), are passed over
   * while another one is available. The caller ends the pick with `pick.done(ok)`.
   * @throws RefrontError UNAVAILABLE `DISCOVERY_NO_INSTANCES` when the set is empty or not known
   *   yet; UNAVAILABLE `CORE_CLOSED` (not retryable) after `close()`.
   */
  pick(avoid?: ServiceInstance): PooledInstance<C>;
  /** The picks of one call (see {@link InstanceAttempts}). */
  attempts(): InstanceAttempts<C>;
  /** The ids of the instances with an open connection now. */
  connected(): string[];
  /** Stops the watch and closes every connection; idempotent. Later calls fail with `CORE_CLOSED`. */
  close(): Promise<void>;
}

interface Entry<C> {
  readonly key: string;
  readonly connection: C;
}

/**
 * Creates the per-instance connection pool a transport client runs on: a single `resolve` for the
 * first calls, then one background watch (a changed set never makes calls resolve again: no
 * resolve storm), a balancer, and one connection per instance, opened on first pick and closed
 * when the instance leaves the set. `pick()` is synchronous and allocates only the pick.
 *
 * @throws RefrontError INVALID_ARGUMENT `DISCOVERY_INVALID_SERVICE` for an empty service name;
 *   `CORE_INVALID_OPTION` for bad balancer options.
 * @example
 * await using pool = createInstancePool({
 *   registry,
 *   service: 'tickets',
 *   connect: (_instance, hostPort) => new Client(hostPort, credentials),
 *   close: (client) => client.close(),
 * });
 * await pool.whenReady(signal);
 * const { key, pick, connection } = pool.pick();
 * try { await callOn(connection); pick.done(true); } catch (e: unknown) { pick.done(false); throw e; }
 */
export function createInstancePool<C>(options: InstancePoolOptions<C>): InstancePool<C> {
  validateServiceName(options.service);
  return new Pool(options);
}

class Pool<C> implements InstancePool<C> {
  readonly service: string;
  private readonly registry: Registry;
  private readonly balancer: Balancer;
  private readonly logger: Logger;
  private readonly entries = new Map<string, Entry<C>>();
  private readonly stop = new AbortController();
  private ready = false;
  private closed = false;
  private first: Promise<void> | undefined;
  private watching: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** The instance the current `pick(avoid)` passes over; set only for that synchronous pick. */
  private avoidId: string | undefined;
  private readonly down: ((instance: ServiceInstance) => boolean) | undefined;

  constructor(private readonly options: InstancePoolOptions<C>) {
    this.service = options.service;
    this.registry = options.registry;
    this.balancer = createBalancer({ ...options.balancer, service: options.service });
    this.logger = options.logger ?? createLogger({ service: 'refront-discovery' });
    const isDown = options.isDown;
    // Built once, so a pick allocates no predicate.
    this.down = isDown
      ? (i) => {
          const entry = this.entries.get(i.id);
          return entry !== undefined && isDown(entry.connection);
        }
      : undefined;
  }

  get isReady(): boolean {
    return this.ready;
  }

  whenReady(signal?: AbortSignal): Promise<void> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.ready) return Promise.resolve();
    this.watching ??= this.follow();
    this.first ??= this.registry.resolve(this.service, { signal: this.stop.signal }).then(
      (set) => {
        if (!this.ready && !this.closed) this.apply(set);
      },
      (e: unknown) => {
        this.first = undefined;
        throw this.closed ? this.closedError() : e;
      },
    );
    return waitFor(this.first, signal);
  }

  private async follow(): Promise<void> {
    try {
      for await (const set of this.registry.watch(this.service, { signal: this.stop.signal })) {
        this.apply(set);
      }
    } catch (e: unknown) {
      if (!this.closed) {
        this.logger.warn({ err: e, target: this.service }, 'discovery watch ended with an error');
      }
    }
  }

  /** Feeds the balancer and closes the connections of instances that left or moved. */
  private apply(set: readonly ServiceInstance[]): void {
    this.balancer.update(set);
    this.ready = true;
    if (this.entries.size === 0) return;
    const live = new Map(set.map((i) => [i.id, keyOf(i, hostPortOf(i))]));
    for (const [id, entry] of this.entries) {
      if (live.get(id) !== entry.key) {
        this.entries.delete(id);
        void this.closeQuietly(entry.connection);
      }
    }
  }

  private readonly avoidOrDown = (i: ServiceInstance): boolean =>
    i.id === this.avoidId || this.down?.(i) === true;

  pick(avoid?: ServiceInstance): PooledInstance<C> {
    if (this.closed) throw this.closedError();
    let pick: Pick;
    if (avoid === undefined) {
      pick = this.balancer.pick(this.down);
    } else {
      this.avoidId = avoid.id;
      pick = this.balancer.pick(this.avoidOrDown);
      this.avoidId = undefined;
    }
    const instance = pick.instance;
    let entry = this.entries.get(instance.id);
    if (entry === undefined) {
      const hostPort = hostPortOf(instance);
      try {
        entry = { key: keyOf(instance, hostPort), connection: this.options.connect(instance, hostPort) };
      } catch (e: unknown) {
        pick.done(true);
        throw e;
      }
      this.entries.set(instance.id, entry);
    }
    return { key: entry.key, pick, connection: entry.connection };
  }

  attempts(): InstanceAttempts<C> {
    return new Attempts(this);
  }

  connected(): string[] {
    return [...this.entries.keys()];
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.closed = true;
      this.stop.abort();
      const closing = [...this.entries.values()].map((e) => this.closeQuietly(e.connection));
      this.entries.clear();
      await Promise.all(closing);
      await this.watching;
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private async closeQuietly(connection: C): Promise<void> {
    try {
      await this.options.close(connection);
    } catch (e: unknown) {
      this.logger.warn({ err: e, target: this.service }, 'closing an instance connection failed');
    }
  }

  private closedError() {
    return CoreErrors.CLOSED(`the instance pool of ${this.service}`);
  }
}

function hostPortOf(i: ServiceInstance): string {
  return i.address.includes(':') ? `[${i.address}]:${i.port}` : `${i.address}:${i.port}`;
}

function keyOf(i: ServiceInstance, hostPort: string): string {
  return `${i.service}/${hostPort}`;
}

/** Awaits `p`, or rejects with `signal.reason` as soon as the signal aborts. */
function waitFor<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (!signal) return p;
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    p.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
