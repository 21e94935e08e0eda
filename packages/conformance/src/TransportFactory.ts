import type {
  Channel,
  Interceptor,
  Logger,
  MethodInfo,
  ServiceDefinition,
  ServiceImplementation,
} from '@refront/core';

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

/** Server authentication as the suite asks for it: a bearer-token verifier. */
export interface ConformanceAuth {
  /** Returns the principal of a valid token, undefined for an invalid one. */
  readonly verifyToken: (
    token: string,
    info: { readonly method: MethodInfo },
  ) => ConformancePrincipal | undefined | Promise<ConformancePrincipal | undefined>;
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
  /** Verify bearer tokens (only asked of lanes whose factory sets `capabilities.auth`). @default none */
  readonly auth?: ConformanceAuth;
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
}

/**
 * How the conformance suite starts servers and channels of one lane (in-process, gRPC, mux…).
 * Each test starts its own server and channel and closes both, so cases do not share state.
 *
 * @example
 * const grpc: TransportFactory<string> = {
 *   async startServer(o) {
 *     const s = createGrpcServer({ service: o.service, logger: o.logger, host: '127.0.0.1', auth: o.auth });
 *     for (const c of o.contracts) s.add(c.definition, c.implementation);
 *     await s.start();
 *     return { handle: s.address, drain: (sig) => s.drain(sig), close: () => s.close() };
 *   },
 *   channel: (address, { logger }) => createGrpcChannel({ target: address, policy: false, logger }),
 * };
 */
export interface TransportFactory<H = unknown> {
  /** `rpc.system` of the clients' spans. @default 'refront' */
  readonly system?: string;
  /** What the lane can express. @default every capability on */
  readonly capabilities?: TransportCapabilities;
  /** Starts a server of `options.contracts` and resolves once it accepts calls. */
  startServer(options: ConformanceServerOptions): Promise<ConformanceServer<H>>;
  /** A channel that reaches `server` (the lane's resilience policy is best left off: the suite tests the lane). */
  channel(server: H, options: { readonly logger: Logger }): ConformanceChannel;
}
