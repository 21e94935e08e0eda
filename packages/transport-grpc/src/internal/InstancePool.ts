import type { ChannelCredentials, ChannelOptions } from '@grpc/grpc-js';
import { Client, connectivityState } from '@grpc/grpc-js';
import type { Logger, Registry, ServiceInstance } from '@refront/core';
import { type Balancer, type BalancerOptions, createBalancer, type Pick } from '@refront/discovery';

/** One instance as the channel uses it: breaker key, picked slot, and its own grpc-js client. */
export interface Picked {
  /** `service/address:port`: the circuit breaker's target. */
  readonly key: string;
  readonly pick: Pick;
  readonly client: Client;
}

interface Conn {
  readonly key: string;
  readonly client: Client;
}

/**
 * The instances of one service: one registry watch feeding a balancer and a grpc-js client per
 * instance. Each instance gets its own HTTP/2 connection, so calls spread over every pod even
 * behind one DNS name; a changed set closes the clients of instances that left and never makes
 * calls resolve again.
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
    private readonly credentials: ChannelCredentials,
    private readonly options: ChannelOptions,
    balancer: Omit<BalancerOptions, 'service'> | undefined,
    private readonly logger: Logger,
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
    const live = new Set(set.map((i) => i.id));
    for (const [id, conn] of this.conns) {
      if (!live.has(id)) {
        this.conns.delete(id);
        conn.client.close();
      }
    }
    for (const instance of set) {
      const conn = this.conns.get(instance.id);
      if (conn && conn.key !== keyOf(instance)) {
        this.conns.delete(instance.id);
        conn.client.close();
      }
    }
  }

  /** Passed over while another instance is available: its connection is down (grpc-js would fail the call at once). */
  private readonly down = (instance: ServiceInstance): boolean => {
    const conn = this.conns.get(instance.id);
    return (
      conn !== undefined &&
      conn.client.getChannel().getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE
    );
  };

  /**
   * Picks an instance (balancer, then its client, created on first use). Instances whose
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
      const key = keyOf(instance);
      conn = { key, client: new Client(hostPort(instance), this.credentials, this.options) };
      this.conns.set(instance.id, conn);
    }
    return { key: conn.key, pick, client: conn.client };
  }

  /** The instance ids that have an open client now. */
  connected(): string[] {
    return [...this.conns.keys()];
  }

  /** Stops the watch and closes every client. */
  async close(): Promise<void> {
    this.closed.abort();
    for (const conn of this.conns.values()) conn.client.close();
    this.conns.clear();
    await this.watching;
  }
}

function hostPort(i: ServiceInstance): string {
  return i.address.includes(':') ? `[${i.address}]:${i.port}` : `${i.address}:${i.port}`;
}

function keyOf(i: ServiceInstance): string {
  return `${i.service}/${hostPort(i)}`;
}
