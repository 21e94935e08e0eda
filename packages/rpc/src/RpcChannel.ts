import {
  type Call,
  type Channel,
  CoreErrors,
  createLogger,
  type Logger,
  type MetricsRegistry,
  type Registry,
} from '@refront/core';
import { type ClientMethod, encodeMessage, invalidOption, type Reply } from '@refront/core/transport';
import { type BalancerOptions, createInstancePool, type InstancePool } from '@refront/discovery';
import { createDefaultPolicy, type ResiliencePolicy } from '@refront/resilience';
import type { CallRoute, Connector } from './CallRoute.js';
import { RpcErrors } from './errors.js';
import { type OutgoingPolicyCall, startCall } from './startCall.js';
import type { ClientTlsOptions } from './tls.js';

/** What every network channel takes: where calls go and how they are guarded. */
export interface RpcChannelOptions {
  /** One fixed target (its syntax is the lane's). Give either `target` or `discovery` with `service`. */
  readonly target?: string;
  /** Where the instances of `service` are; each instance gets its own connection(s). */
  readonly discovery?: Registry;
  /** The service name in `discovery` (`tickets`). */
  readonly service?: string;
  /** How instances are picked. @default least-outstanding with outlier detection */
  readonly balancer?: Omit<BalancerOptions, 'service'>;
  /**
   * The resilience policy every call runs under; its breaker layer guards each instance
   * (`service/address:port`). `false` opts out (not recommended). @default createDefaultPolicy()
   */
  readonly policy?: ResiliencePolicy | false;
  /** TLS from PEM files; with certFile and keyFile, mutual TLS. @default none (plaintext) */
  readonly tls?: ClientTlsOptions;
  /** Registry for the default policy's counters. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** Logger for the default policy, discovery and the lane's connections. @default a logger for `refront-<lane>` */
  readonly logger?: Logger | undefined;
}

/** A network {@link Channel}: give it to core's `createClient`. Owns its connections. */
export interface RpcChannel extends Channel, AsyncDisposable {
  /** See `Channel.send`: the channel reports to a reply (no promise of its own; `unary` is this in a promise). */
  send<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void;
  /** The policy calls run under, if any. */
  readonly policy: ResiliencePolicy | undefined;
  /** Ids of the instances with an open connection (discovery only). */
  connectedInstances(): string[];
  /** Stops the discovery watch, closes every connection and the default policy; idempotent. */
  close(): Promise<void>;
}

/** The class of a lane's outgoing call (an `RpcOutgoingCall`): one object per call. */
export type OutgoingCallClass<C, K extends Connector<C>> = new (
  route: CallRoute<C, K>,
  method: ClientMethod,
  call: Call<unknown>,
  body: Uint8Array,
  reply: Reply,
) => OutgoingPolicyCall<unknown>;

/** What a lane gives {@link createRpcChannel}. */
export interface ChannelLane<C, K extends Connector<C>> {
  /** The lane's name (`grpc`, `mux`): the default logger is `refront-<lane>`. */
  readonly lane: string;
  /** Makes the lane's connector once the options are checked, with the channel's logger. */
  connector(logger: Logger): K;
  /** The lane's outgoing call, made for every call with the channel as its route. */
  readonly Call: OutgoingCallClass<C, K>;
}

class RpcChannelImpl<C, K extends Connector<C>> implements RpcChannel, CallRoute<C, K> {
  readonly policy: ResiliencePolicy | undefined;
  readonly pool: InstancePool<C> | undefined;
  readonly single: C | undefined;
  readonly name: string;
  readonly connector: K;
  private readonly Call: OutgoingCallClass<C, K>;
  private readonly ownsPolicy: boolean;
  private closing: Promise<void> | undefined;

  constructor(options: RpcChannelOptions, lane: ChannelLane<C, K>) {
    const { target, discovery, service } = options;
    if ((target === undefined) === (discovery === undefined)) {
      throw invalidOption('give either target or discovery (with service)');
    }
    if (discovery && !service) throw invalidOption('discovery needs the service name to resolve');
    this.name = service ?? (target as string);
    const logger = options.logger ?? createLogger({ service: `refront-${lane.lane}` });
    const connector = lane.connector(logger);
    this.connector = connector;
    this.Call = lane.Call;
    if (discovery) {
      this.pool = createInstancePool({
        registry: discovery,
        service: this.name,
        connect: connector.connect,
        close: connector.close,
        isDown: connector.isDown,
        balancer: options.balancer,
        logger,
      });
    } else {
      this.single = connector.dial(target as string);
    }
    this.ownsPolicy = options.policy === undefined;
    this.policy =
      options.policy === false
        ? undefined
        : (options.policy ?? createDefaultPolicy({ name: this.name, metrics: options.metrics, logger }));
  }

  unary<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res> {
    return new Promise<Res>((resolve, reject) =>
      this.send(method, call, { ok: resolve as (res: unknown) => void, fail: reject }),
    );
  }

  send<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void {
    if (this.closing) {
      reply.fail(CoreErrors.CLOSED.with({ unprocessed: true }, `channel to ${this.name}`));
      return;
    }
    let body: Uint8Array;
    try {
      body = encodeMessage(method.requestType, call.request);
    } catch (e: unknown) {
      reply.fail(RpcErrors.REQUEST_ENCODE_FAILED.with({ cause: e }, method.info.path));
      return;
    }
    const out = new this.Call(this, method as ClientMethod, call as Call<unknown>, body, reply);
    startCall(out, this.policy, this.pool);
  }

  connectedInstances(): string[] {
    return this.pool?.connected() ?? [];
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      const single = this.single;
      await Promise.all([
        single === undefined ? undefined : this.connector.close(single),
        this.pool?.close(),
      ]);
      this.connector.closed?.();
      if (this.ownsPolicy) await this.policy?.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * The channel of a network lane: one fixed target or discovery (an instance pool: one resolve
 * then a watch, a balancer, a connection per instance from the lane's {@link Connector}), the
 * resilience policy (the default one, which the channel owns and closes, unless given one or
 * `false`), encoding, `send`/`unary` with one `lane.Call` object per call started by
 * {@link startCall}, and an idempotent `close`.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` without exactly one of target and discovery, or
 *   discovery without a service; whatever the lane's connector or `dial` throws.
 * @example
 * export function createMuxChannel(options: MuxChannelOptions): MuxChannel {
 *   return createRpcChannel(options, { lane: 'mux', connector: (logger) => muxConnector(options, logger), Call: OutgoingCall });
 * }
 */
export function createRpcChannel<C, K extends Connector<C>>(
  options: RpcChannelOptions,
  lane: ChannelLane<C, K>,
): RpcChannel {
  return new RpcChannelImpl(options, lane);
}
