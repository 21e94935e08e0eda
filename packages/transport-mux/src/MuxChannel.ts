import {
  type Call,
  type Channel,
  CoreReason,
  createLogger,
  type Logger,
  type MetricsRegistry,
  RefrontError,
  type Registry,
} from '@refront/core';
import {
  type ClientMethod,
  DeadlineWheel,
  encodeMessage,
  invalidOption,
  type Reply,
} from '@refront/core/transport';
import { type BalancerOptions, createInstancePool, type InstancePool } from '@refront/discovery';
import { createDefaultPolicy, type ResiliencePolicy, startCall } from '@refront/resilience';
import type { ClientConnectionOptions } from './internal/ClientConnection.js';
import { encodePreface } from './internal/codec.js';
import { Endpoint } from './internal/Endpoint.js';
import { type CallRoute, OutgoingCall } from './internal/OutgoingCall.js';
import { type ClientTlsOptions, clientTlsOptions, type KeepaliveOptions, positiveInt } from './options.js';
import {
  DEFAULT_CLIENT_KEEPALIVE_TIME_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_MAX_CONCURRENT_REQUESTS,
  DEFAULT_MAX_FRAME_BYTES,
  MIN_MAX_FRAME_BYTES,
  MUX_PROTOCOL_VERSION,
} from './protocol.js';

/** Connections kept to each instance. */
export const DEFAULT_CONNECTIONS_PER_INSTANCE = 1;
/** Time a new connection has to complete its handshake, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 5_000;
/** First reconnect backoff cap, in ms; it doubles per failure. */
export const DEFAULT_RECONNECT_BASE_DELAY_MS = 100;
/** Largest reconnect backoff cap, in ms. */
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 10_000;
/** How long `close()` lets calls in flight finish before cutting the connections, in ms. */
export const DEFAULT_CHANNEL_CLOSE_TIMEOUT_MS = 5_000;

/** Reconnect backoff (exponential, equal jitter). */
export interface ReconnectOptions {
  /** Backoff cap after the first failure, in ms; doubles per failure. @default 100 */
  readonly baseDelayMs?: number;
  /** Largest backoff cap, in ms. @default 10 000 */
  readonly maxDelayMs?: number;
  /** Source of randomness in [0, 1) (inject it in tests). @default Math.random */
  readonly random?: () => number;
}

/** Options of {@link createMuxChannel}: where calls go and how they are guarded. */
export interface MuxChannelOptions {
  /** One fixed instance, `host:port` (`10.0.0.7:7070`, `[::1]:7070`). Give either `target` or `discovery` with `service`. */
  readonly target?: string;
  /** Where the instances of `service` are; each instance gets its own connections. */
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
  /** Logger for the connections, the default policy and discovery. @default a logger for `refront-mux` */
  readonly logger?: Logger | undefined;
  /** Connections per instance; calls are spread over them round-robin. @default 1 */
  readonly connectionsPerInstance?: number;
  /** Largest frame accepted from servers, in bytes. @default DEFAULT_MAX_FRAME_BYTES (4 MiB) */
  readonly maxFrameBytes?: number;
  /** Keepalive pings and dead-peer detection. @default { timeMs: 30 000, timeoutMs: 10 000 } */
  readonly keepalive?: KeepaliveOptions;
  /** Time a new connection has to connect and handshake, in ms. @default 5000 */
  readonly connectTimeoutMs?: number;
  /** Reconnect backoff after a connection fails. @default see {@link ReconnectOptions} */
  readonly reconnect?: ReconnectOptions;
  /** See {@link DEFAULT_CHANNEL_CLOSE_TIMEOUT_MS}. @default 5000 */
  readonly closeTimeoutMs?: number;
}

/** A mux {@link Channel}: give it to core's `createClient`. Owns its connections. */
export interface MuxChannel extends Channel, AsyncDisposable {
  /** See `Channel.send`: the mux channel reports to a reply (one promise per call, the caller's). */
  send<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void;
  /** The policy calls run under, if any. */
  readonly policy: ResiliencePolicy | undefined;
  /** Ids of the instances with connections (discovery only). */
  connectedInstances(): string[];
  /** Stops the discovery watch, lets calls in flight finish, closes every connection and the default policy; idempotent. */
  close(): Promise<void>;
}

/** `host:port` or `[v6]:port`. @throws RefrontError `CORE_INVALID_OPTION` */
function parseTarget(target: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !(port > 0 && port < 65536)) throw invalidOption(`target must be host:port, got "${target}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

class MuxChannelImpl implements MuxChannel, CallRoute {
  readonly policy: ResiliencePolicy | undefined;
  private readonly ownsPolicy: boolean;
  readonly pool: InstancePool<Endpoint> | undefined;
  readonly single: Endpoint | undefined;
  private readonly wheel = new DeadlineWheel();
  readonly name: string;
  private closing: Promise<void> | undefined;

  constructor(options: MuxChannelOptions) {
    const { target, discovery, service } = options;
    if ((target === undefined) === (discovery === undefined)) {
      throw invalidOption('give either target or discovery (with service)');
    }
    if (discovery && !service) throw invalidOption('discovery needs the service name to resolve');
    this.name = service ?? (target as string);
    const logger = options.logger ?? createLogger({ service: 'refront-mux' });
    const endpointFor = this.endpointFactory(options, logger);
    const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CHANNEL_CLOSE_TIMEOUT_MS;
    if (!(closeTimeoutMs >= 0)) throw invalidOption('closeTimeoutMs must be >= 0');
    if (discovery) {
      this.pool = createInstancePool({
        registry: discovery,
        service: this.name,
        connect: (instance) => endpointFor(instance.address, instance.port),
        close: (endpoint) => endpoint.close(closeTimeoutMs),
        // Its last dial failed and it is backing off: a call there would fail at once.
        isDown: (endpoint) => endpoint.down,
        balancer: options.balancer,
        logger,
      });
    } else {
      const { host, port } = parseTarget(target as string);
      this.single = endpointFor(host, port);
    }
    this.closeTimeoutMs = closeTimeoutMs;
    this.ownsPolicy = options.policy === undefined;
    this.policy =
      options.policy === false
        ? undefined
        : (options.policy ?? createDefaultPolicy({ name: this.name, metrics: options.metrics, logger }));
  }

  private readonly closeTimeoutMs: number;

  /** Resolves every connection option once; returns the factory of endpoints. */
  private endpointFactory(
    options: MuxChannelOptions,
    logger: Logger,
  ): (host: string, port: number) => Endpoint {
    const maxFrameBytes = positiveInt(
      'maxFrameBytes',
      options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES,
      0xffffffff,
    );
    if (maxFrameBytes < MIN_MAX_FRAME_BYTES)
      throw invalidOption(`maxFrameBytes must be >= ${MIN_MAX_FRAME_BYTES}`);
    const size = positiveInt(
      'connectionsPerInstance',
      options.connectionsPerInstance ?? DEFAULT_CONNECTIONS_PER_INSTANCE,
      64,
    );
    const base = options.reconnect?.baseDelayMs ?? DEFAULT_RECONNECT_BASE_DELAY_MS;
    const max = options.reconnect?.maxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS;
    if (!(base >= 0 && max >= base)) throw invalidOption('reconnect needs 0 <= baseDelayMs <= maxDelayMs');
    const backoff = { baseDelayMs: base, maxDelayMs: max, random: options.reconnect?.random ?? Math.random };
    const tls = options.tls ? clientTlsOptions(options.tls) : undefined;
    const common = {
      preface: encodePreface(MUX_PROTOCOL_VERSION, maxFrameBytes, DEFAULT_MAX_CONCURRENT_REQUESTS),
      maxFrameBytes,
      keepaliveTimeMs: positiveInt(
        'keepalive.timeMs',
        options.keepalive?.timeMs ?? DEFAULT_CLIENT_KEEPALIVE_TIME_MS,
      ),
      keepaliveTimeoutMs: positiveInt(
        'keepalive.timeoutMs',
        options.keepalive?.timeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      ),
      connectTimeoutMs: positiveInt(
        'connectTimeoutMs',
        options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ),
      wheel: this.wheel,
      logger,
    };
    return (host, port) => {
      const o: ClientConnectionOptions = {
        ...common,
        host,
        port,
        tls: tls ? { options: tls, serverName: options.tls?.serverName ?? host } : undefined,
      };
      return new Endpoint(o, size, backoff, logger);
    };
  }

  unary<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res> {
    return new Promise<Res>((resolve, reject) =>
      this.send(method, call, { ok: resolve as (res: unknown) => void, fail: reject }),
    );
  }

  send<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void {
    if (this.closing) {
      reply.fail(
        new RefrontError('UNAVAILABLE', CoreReason.CLOSED, `channel to ${this.name} is closed`, {
          unprocessed: true,
        }),
      );
      return;
    }
    let body: Uint8Array;
    try {
      body = encodeMessage(method.requestType, call.request);
    } catch (e: unknown) {
      reply.fail(
        new RefrontError('INVALID_ARGUMENT', CoreReason.DECODE_FAILED, 'request does not encode', {
          cause: e,
        }),
      );
      return;
    }
    const out = new OutgoingCall(this, method as ClientMethod, call as Call<unknown>, body, reply);
    startCall(out, this.policy, this.pool);
  }

  connectedInstances(): string[] {
    return this.pool?.connected() ?? [];
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      await Promise.all([this.single?.close(this.closeTimeoutMs), this.pool?.close()]);
      this.wheel.stop();
      if (this.ownsPolicy) await this.policy?.close();
    })();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/**
 * Creates a mux channel for core's `createClient`. Each call: resolve (once per service, then a
 * background watch) → balancer → resilience policy (timeout, bulkhead, retry, a circuit breaker per
 * instance) → a request frame on one of that instance's persistent connections, with the remaining
 * deadline and the call's metadata (traceparent, caller, tenant, authorization).
 *
 * @throws RefrontError `CORE_INVALID_OPTION` without exactly one of target and discovery, or for
 *   a bad limit; `MUX_BAD_CREDENTIALS` when a PEM file cannot be read.
 * @example
 * const channel = createMuxChannel({ discovery: registry, service: 'tickets' });
 * const tickets = createClient(TicketsServiceDefinition, channel, { caller: 'time-tracking', system: MUX_SYSTEM });
 */
export function createMuxChannel(options: MuxChannelOptions): MuxChannel {
  return new MuxChannelImpl(options);
}
