import type { Logger, Registry, ServiceInstance } from '@refront/core';
import { type Balancer, type BalancerOptions, createBalancer, type Pick } from '@refront/discovery';
import type { Endpoint } from './Endpoint.js';

/** One instance as the channel uses it: breaker key, picked slot, and its connections. */
export interface Picked {
  /** `service/address:port`: the circuit breaker's target. */
  readonly key: string;
  readonly pick: Pick;
  readonly endpoint: Endpoint;
}

interface Conn {
  readonly key: string;
  readonly endpoint: Endpoint;
}

/**
 * The instances of one service, as in `@refront/transport-grpc`: one registry watch feeding a
 * balancer, and an {@link Endpoint} (its own connections) per instance, made on first pick. A
 * changed set closes the endpoints of instances that left; calls never resolve again.
 */
export class InstancePool {
  private readonly balancer: Balancer;
  private readonly conns = new Map<string, Conn>();
  private readonly closed = new AbortController();
  private ready = false;
  private first: Promise<void> | undefined;
  private watching: Promise<void> | undefined;

  constructor(
    private readonly registry: Registry,
    private readonly service: string,
    private readonly endpointFor: (host: string, port: number) => Endpoint,
    balancer: Omit<BalancerOptions, 'service'> | undefined,
    private readonly logger: Logger,
    private readonly closeTimeoutMs: number,
  ) {
    this.balancer = createBalancer({ ...balancer, service });
  }

  /** Whether the first set arrived, so `pick()` may run synchronously. */
  get isReady(): boolean {
    return this.ready;
  }

  /** Resolves once the first set is known (one resolve shared by concurrent callers; a failure is retried by the next call). */
  whenReady(): Promise<void> {
    if (this.ready) return Promise.resolve();
    this.watching ??= this.follow();
    this.first ??= this.registry.resolve(this.service, { signal: this.closed.signal }).then(
      (set) => {
        if (!this.ready) this.apply(set);
      },
      (e: unknown) => {
        this.first = undefined;
        throw e;
      },
    );
    return this.first;
  }

  private async follow(): Promise<void> {
    try {
      for await (const set of this.registry.watch(this.service, { signal: this.closed.signal }))
        this.apply(set);
    } catch (e: unknown) {
      if (!this.closed.signal.aborted) {
        this.logger.warn({ err: e, target: this.service }, 'discovery watch ended with an error');
      }
    }
  }

  private apply(set: readonly ServiceInstance[]): void {
    this.balancer.update(set);
    this.ready = true;
    const live = new Map(set.map((i) => [i.id, keyOf(i)]));
    for (const [id, conn] of this.conns) {
      if (live.get(id) !== conn.key) {
        this.conns.delete(id);
        void conn.endpoint.close(this.closeTimeoutMs);
      }
    }
  }

  /** Passed over while another instance is available: its connection is down and backing off. */
  private readonly down = (instance: ServiceInstance): boolean =>
    this.conns.get(instance.id)?.endpoint.down === true;

  /**
   * Picks an instance (balancer, then its endpoint, made on first use). Instances whose
   * connection is down, and `previous` (the instance the call's last attempt failed on), are
   * passed over while another one is available.
   * @throws RefrontError UNAVAILABLE `DISCOVERY_NO_INSTANCES` when the set is empty.
   */
  pick(previous?: ServiceInstance): Picked {
    const pick = this.balancer.pick(
      previous === undefined ? this.down : (i) => i.id === previous.id || this.down(i),
    );
    const instance = pick.instance;
    let conn = this.conns.get(instance.id);
    if (!conn) {
      conn = { key: keyOf(instance), endpoint: this.endpointFor(instance.address, instance.port) };
      this.conns.set(instance.id, conn);
    }
    return { key: conn.key, pick, endpoint: conn.endpoint };
  }

  /** The instance ids that have an endpoint now. */
  connected(): string[] {
    return [...this.conns.keys()];
  }

  /** Stops the watch and closes every endpoint. */
  async close(): Promise<void> {
    this.closed.abort();
    const closing = [...this.conns.values()].map((c) => c.endpoint.close(this.closeTimeoutMs));
    this.conns.clear();
    await Promise.all(closing);
    await this.watching;
  }
}

function hostPort(i: ServiceInstance): string {
  return i.address.includes(':') ? `[${i.address}]:${i.port}` : `${i.address}:${i.port}`;
}

function keyOf(i: ServiceInstance): string {
  return `${i.service}/${hostPort(i)}`;
}
