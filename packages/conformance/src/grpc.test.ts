/**
 * The gRPC lane (transport-grpc on grpc-js, over real sockets on 127.0.0.1) against the
 * conformance suite. The channel runs without its resilience policy: retries and breakers would
 * change what the caller sees, and the suite tests the lane, not the policy.
 */
import { createGrpcChannel, createGrpcServer, GRPC_SYSTEM } from '@refront/transport-grpc';
import { describeTransportConformance } from './describeTransportConformance.js';
import type { TransportFactory } from './TransportFactory.js';

const grpc: TransportFactory<string> = {
  system: GRPC_SYSTEM,
  async startServer(options) {
    const server = createGrpcServer({
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
    return createGrpcChannel({ target: address, policy: false, logger, ...(tls ? { tls } : {}) });
  },
  discoveryChannel: (options) => createGrpcChannel(options),
  addressOf: (address) => address,
  handleOf: (address) => address,
};

describeTransportConformance('gRPC', grpc);
