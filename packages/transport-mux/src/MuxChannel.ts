import { createSecureContext, type ConnectionOptions as TlsConnectOptions } from 'node:tls';
import type { Logger } from '@refront/core';
import { DeadlineWheel, invalidOption } from '@refront/core/transport';
import {
  type Connector,
  createRpcChannel,
  type KeepaliveOptions,
  positiveInt,
  type RpcChannel,
  type RpcChannelOptions,
  resolveKeepalive,
  type TlsMaterial,
} from '@refront/rpc';
import type { ClientConnectionOptions } from './internal/ClientConnection.js';
import { encodePreface } from './internal/codec.js';
import { Endpoint } from './internal/Endpoint.js';
import { OutgoingCall } from './internal/OutgoingCall.js';
import { clientTlsReloader, resolveMaxFrameBytes, secureContextOptions } from './options.js';
import { DEFAULT_MAX_CONCURRENT_REQUESTS, MUX_PROTOCOL_VERSION } from './protocol.js';

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
export interface MuxChannelOptions extends RpcChannelOptions {
  /** One fixed instance, `host:port` (`10.0.0.7:7070`, `[::1]:7070`). Give either `target` or `discovery` with `service`. */
  readonly target?: string;
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

/** A mux {@link RpcChannel} (`send` puts one request frame per attempt on a connection): give it to core's `createClient`. Owns its connections; `close()` lets calls in flight finish first. */
export interface MuxChannel extends RpcChannel {}

/** `host:port` or `[v6]:port`. @throws RefrontError `CORE_INVALID_OPTION` */
function parseTarget(target: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(target);
  const port = m ? Number(m[3]) : Number.NaN;
  if (!m || !(port > 0 && port < 65536)) throw invalidOption(`target must be host:port, got "${target}"`);
  return { host: (m[1] ?? m[2]) as string, port };
}

/**
 * Resolves every connection option once; returns the connector of endpoints, whose connections
 * share one deadline wheel (stopped once the channel closed them all).
 */
function muxConnector(options: MuxChannelOptions, logger: Logger): Connector<Endpoint> {
  const maxFrameBytes = resolveMaxFrameBytes(options.maxFrameBytes);
  const size = positiveInt(
    'connectionsPerInstance',
    options.connectionsPerInstance ?? DEFAULT_CONNECTIONS_PER_INSTANCE,
    64,
  );
  const base = options.reconnect?.baseDelayMs ?? DEFAULT_RECONNECT_BASE_DELAY_MS;
  const max = options.reconnect?.maxDelayMs ?? DEFAULT_RECONNECT_MAX_DELAY_MS;
  if (!(base >= 0 && max >= base)) throw invalidOption('reconnect needs 0 <= baseDelayMs <= maxDelayMs');
  const backoff = { baseDelayMs: base, maxDelayMs: max, random: options.reconnect?.random ?? Math.random };
  const reloader = options.tls ? clientTlsReloader(options.tls, logger, options.metrics) : undefined;
  // One secure context per set of files, made when they load; new connections take the latest.
  const connectOptions = (m: TlsMaterial): TlsConnectOptions => ({
    secureContext: createSecureContext(secureContextOptions(m)),
  });
  let secure = reloader ? connectOptions(reloader.current) : undefined;
  reloader?.subscribe((m) => {
    secure = connectOptions(m);
  });
  const tlsOptions = (): TlsConnectOptions => secure ?? {};
  const keepalive = resolveKeepalive(options.keepalive, 'client');
  const wheel = new DeadlineWheel();
  const common = {
    preface: encodePreface(MUX_PROTOCOL_VERSION, maxFrameBytes, DEFAULT_MAX_CONCURRENT_REQUESTS),
    maxFrameBytes,
    keepaliveTimeMs: keepalive.timeMs,
    keepaliveTimeoutMs: keepalive.timeoutMs,
    connectTimeoutMs: positiveInt('connectTimeoutMs', options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS),
    wheel,
    logger,
  };
  const endpoint = (host: string, port: number): Endpoint => {
    const o: ClientConnectionOptions = {
      ...common,
      host,
      port,
      tls: reloader ? { options: tlsOptions, serverName: options.tls?.serverName ?? host } : undefined,
    };
    return new Endpoint(o, size, backoff, logger);
  };
  const closeTimeoutMs = options.closeTimeoutMs ?? DEFAULT_CHANNEL_CLOSE_TIMEOUT_MS;
  if (!(closeTimeoutMs >= 0)) throw invalidOption('closeTimeoutMs must be >= 0');
  return {
    dial: (target) => {
      const { host, port } = parseTarget(target);
      return endpoint(host, port);
    },
    connect: (instance) => endpoint(instance.address, instance.port),
    close: (e) => e.close(closeTimeoutMs),
    // Its last dial failed and it is backing off: a call there would fail at once.
    isDown: (e) => e.down,
    closed: () => {
      reloader?.close();
      wheel.stop();
    },
  };
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
  return createRpcChannel(options, {
    lane: 'mux',
    connector: (logger) => muxConnector(options, logger),
    Call: OutgoingCall,
  });
}
