import type {
  Channel,
  Interceptor,
  Logger,
  MessageValidator,
  MethodInfo,
  Registry,
  ServiceDefinition,
  ServiceImplementation,
} from '@refront/core';
import type { BalancerOptions } from '@refront/discovery';
import type { ResiliencePolicy } from '@refront/resilience';

/** A contract and its implementation, as a server serves it. */
export interface ServedContract {
  readonly definition: ServiceDefinition;
  readonly implementation: ServiceImplementation<ServiceDefinition>;
}

/** Who a verified bearer token speaks for (the shape of transport-grpc's `Principal`). */
export interface ConformancePrincipal {
  readonly id: string;
  readonly claims?: Readonly<Record<string, string>>;
}

/**
 * Server authentication as the suite asks for it (the shape of core's `ServerAuthOptions`): a
 * bearer-token verifier, and the mTLS peer identity as the handler's caller. `{}` asks for the
 * mTLS identity alone.
 */
export interface ConformanceAuth {
  /** Returns the principal of a valid token, undefined for an invalid one. @default tokens are not checked */
  readonly verifyToken?: (
    token: string,
    info: { readonly method: MethodInfo },
  ) => ConformancePrincipal | undefined | Promise<ConformancePrincipal | undefined>;
  /** The callers the server accepts, by caller name (core's `CallerRules`). @default any caller */
  readonly callers?: Readonly<Record<string, '*' | readonly string[]>>;
  /** The caller name of a verified identity. @default the identity itself */
  readonly callerName?: (identity: string) => string | undefined;
}

/** What the suite asks of {@link TransportFactory.startServer}. */
export interface ConformanceServerOptions {
  /** The serving service's name (logs, metrics, the request context). */
  readonly service: string;
  /** A silent logger. */
  readonly logger: Logger;
  /** The contracts to serve, added before the server starts. */
  readonly contracts: readonly ServedContract[];
  /** Interceptors run after the lane's defaults. @default [] */
  readonly interceptors?: readonly Interceptor[];
  /**
   * Authenticate calls: verify bearer tokens (only asked of lanes with `capabilities.auth`), and
   * make the mTLS peer identity the handler's caller (only with `tls.clientCaFile`). @default none
   */
  readonly auth?: ConformanceAuth;
  /** Serve over TLS (only asked of lanes with `capabilities.tls`). @default plaintext */
  readonly tls?: ConformanceServerTls;
  /** Check requests against their contracts' rules before the handlers (the server's `validator`). @default none */
  readonly validator?: MessageValidator;
  /**
   * Bind this port on 127.0.0.1 instead of a free one: the suite restarts a server where the
   * previous one listened (only asked of lanes with `capabilities.faults`). @default a free port
   */
  readonly port?: number;
}

/** Server TLS from PEM files (the shape of `@refront/rpc`'s `ServerTlsOptions`, which both network lanes take). */
export interface ConformanceServerTls {
  /** The server's certificate chain (PEM). */
  readonly certFile: string;
  /** The server's private key (PEM). */
  readonly keyFile: string;
  /** CA bundle (PEM) client certificates must chain to; when set, clients must present one (mTLS). @default none */
  readonly clientCaFile?: string;
}

/** Client TLS from PEM files (the shape of `@refront/rpc`'s `ClientTlsOptions`, which both network lanes take). */
export interface ConformanceClientTls {
  /** CA bundle (PEM) the server's certificate must chain to. */
  readonly caFile: string;
  /** The client's certificate chain (PEM), for mTLS; given with `keyFile`. @default none */
  readonly certFile?: string;
  /** The client's private key (PEM), for mTLS; given with `certFile`. @default none */
  readonly keyFile?: string;
  /** Name the server certificate must carry, when it differs from the host dialled. @default the dialled host */
  readonly serverName?: string;
}

/** What the suite asks of {@link TransportFactory.channel}. */
export interface ConformanceChannelOptions {
  /** A silent logger. */
  readonly logger: Logger;
  /** Dial over TLS (only asked of lanes with `capabilities.tls`). @default plaintext */
  readonly tls?: ConformanceClientTls;
  /**
   * The caller identity the channel presents to servers (only asked of lanes with
   * `capabilities.channelCaller`). @default none: the channel presents no identity
   */
  readonly caller?: string;
}

/**
 * What the suite asks of {@link TransportFactory.discoveryChannel}: the field names of
 * transport-grpc's and transport-mux's channel options, so a lane can pass them on as they are.
 */
export interface ConformanceDiscoveryChannelOptions {
  /** A silent logger. */
  readonly logger: Logger;
  /** Where the channel finds the instances of `service`. */
  readonly discovery: Registry;
  /** The service whose instances the channel calls. */
  readonly service: string;
  /** The resilience policy run around every call, with a breaker per instance (the lane's own use of it is under test). */
  readonly policy: ResiliencePolicy;
  /** How the channel picks an instance per attempt. */
  readonly balancer: Omit<BalancerOptions, 'service'>;
}

/** A started server, as the suite drives it. `H` is what a channel needs to reach it. */
export interface ConformanceServer<H> {
  /** What {@link TransportFactory.channel} takes: an address, a network… */
  readonly handle: H;
  /** The server's graceful drain: refuse new calls, let in-flight ones finish; `signal` ends the grace. */
  drain(signal?: AbortSignal): Promise<void>;
  /** Releases the server; idempotent. */
  close(): Promise<void>;
}

/** A client channel the suite owns and closes. */
export interface ConformanceChannel extends Channel {
  close(): Promise<void>;
}

/** What a lane can express; a case whose capability is off is not registered at all. */
export interface TransportCapabilities {
  /**
   * The lane encodes the request to bytes the server decodes (every network lane; in-process
   * with `copyMessages`), so a body that does not decode can be sent. @default true
   */
  readonly sendsBytes?: boolean;
  /** The server verifies bearer tokens (`startServer({ auth })`). @default true */
  readonly auth?: boolean;
  /**
   * The lane runs over TLS and mutual TLS (`startServer({ tls })`, `channel(h, { tls })`), and
   * with `auth` the client certificate's identity becomes the handler's caller. @default true
   */
  readonly tls?: boolean;
  /**
   * The lane runs over TCP, so the suite can cut its connections, restart a server on the same
   * port (`startServer({ port })`) and point a channel at a peer that never answers. Needs
   * {@link TransportFactory.addressOf} and {@link TransportFactory.handleOf}. @default true
   */
  readonly faults?: boolean;
  /**
   * The lane's channel finds a service's instances in a {@link Registry} and runs a resilience
   * policy per call and instance, so the suite can check what a retry may repeat across two
   * instances and when an instance's breaker opens. Needs `faults` and
   * {@link TransportFactory.discoveryChannel}. @default true
   */
  readonly discovery?: boolean;
  /**
   * The lane's channel presents the caller identity it is made with (`channel(h, { caller })`)
   * as its peer identity, as core's in-process network does, so the suite can check declared
   * callers (`startServer({ auth: { callers } })`) without certificates. Network lanes present
   * theirs through a client certificate (the mTLS cases). @default false
   */
  readonly channelCaller?: boolean;
}

/**
 * How the conformance suite starts servers and channels of one lane (in-process, gRPC, mux…).
 * Each test starts its own server and channel and closes both, so cases do not share state.
 *
 * @example
 * const grpc: TransportFactory<string> = {
 *   async startServer(o) {
 *     const s = createGrpcServer({ service: o.service, logger: o.logger, host: '127.0.0.1', port: o.port, auth: o.auth, tls: o.tls });
 *     for (const c of o.contracts) s.add(c.definition, c.implementation);
 *     await s.start();
 *     return { handle: s.address, drain: (sig) => s.drain(sig), close: () => s.close() };
 *   },
 *   channel: (address, { logger, tls }) => createGrpcChannel({ target: address, policy: false, logger, tls }),
 *   addressOf: (address) => address,
 *   handleOf: (address) => address,
 * };
 */
export interface TransportFactory<H = unknown> {
  /** `rpc.system` of the clients' spans. @default 'refront' */
  readonly system?: string;
  /** What the lane can express. @default every capability on */
  readonly capabilities?: TransportCapabilities;
  /** Starts a server of `options.contracts` and resolves once it accepts calls. */
  startServer(options: ConformanceServerOptions): Promise<ConformanceServer<H>>;
  /**
   * A channel to the instances of `options.service` registered in `options.discovery`, running
   * `options.policy` and balancing with `options.balancer`. Required with `capabilities.discovery`.
   */
  discoveryChannel?(options: ConformanceDiscoveryChannelOptions): ConformanceChannel;
  /** A channel that reaches `server` (the lane's resilience policy is best left off: the suite tests the lane). */
  channel(server: H, options: ConformanceChannelOptions): ConformanceChannel;
  /**
   * The `host:port` a channel to `handle` dials. Network lanes only; required with
   * `capabilities.faults` (the suite relays that address through a proxy it can cut, and reads
   * the port to restart a server on).
   */
  addressOf?(handle: H): string;
  /**
   * The handle of a TCP peer the suite runs itself at `address` (`127.0.0.1:<port>`): a relay in
   * front of a server, a peer that never answers. Network lanes only; required with
   * `capabilities.faults`. For a lane whose handle is its address, both functions are the identity.
   */
  handleOf?(address: string): H;
}
