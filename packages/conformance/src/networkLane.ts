import type { NetworkRpcServer, RpcChannel, RpcChannelOptions, RpcServerOptions } from '@refront/rpc';
import type { TransportFactory } from './TransportFactory.js';

/** What a network lane built on `@refront/rpc` gives {@link networkLane}: its factories and span system. */
export interface NetworkLane {
  /** `rpc.system` of the lane's client spans. */
  readonly system: string;
  /** The lane's server factory (`createGrpcServer`, `createMuxServer`). */
  createServer(options: RpcServerOptions): NetworkRpcServer;
  /** The lane's channel factory (`createGrpcChannel`, `createMuxChannel`). */
  createChannel(options: RpcChannelOptions): RpcChannel;
}

/**
 * The conformance factory of a network lane built on `@refront/rpc` (gRPC, mux): servers on
 * 127.0.0.1 (a free port, or the one asked), handles that are their `host:port`, and channels to
 * one server without their resilience policy (the suite tests the lane, not the policy); discovery
 * channels take the suite's policy and balancer as they are.
 *
 * @example
 * describeTransportConformance('mux', networkLane({ system: MUX_SYSTEM, createServer: createMuxServer, createChannel: createMuxChannel }));
 */
export function networkLane(lane: NetworkLane): TransportFactory<string> {
  return {
    system: lane.system,
    async startServer(options) {
      const server = lane.createServer({
        service: options.service,
        logger: options.logger,
        host: '127.0.0.1',
        port: options.port ?? 0,
        interceptors: options.interceptors ?? [],
        ...(options.auth ? { auth: options.auth } : {}),
        ...(options.tls ? { tls: options.tls } : {}),
        ...(options.validator ? { validator: options.validator } : {}),
      });
      for (const c of options.contracts) server.add(c.definition, c.implementation);
      await server.start();
      return { handle: server.address, drain: (signal) => server.drain(signal), close: () => server.close() };
    },
    channel(address, { logger, tls }) {
      return lane.createChannel({ target: address, policy: false, logger, ...(tls ? { tls } : {}) });
    },
    discoveryChannel: (options) => lane.createChannel(options),
    addressOf: (address) => address,
    handleOf: (address) => address,
  };
}
