/**
 * The mux lane (transport-mux, over real sockets on 127.0.0.1) against the conformance suite.
 * Like the gRPC wiring, the channel runs without its resilience policy: the suite tests the lane.
 */
import { createMuxChannel, createMuxServer, MUX_SYSTEM } from '@refront/transport-mux';
import { describeTransportConformance } from './describeTransportConformance.js';
import type { TransportFactory } from './TransportFactory.js';

const mux: TransportFactory<string> = {
  system: MUX_SYSTEM,
  async startServer(options) {
    const server = createMuxServer({
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
    return createMuxChannel({ target: address, policy: false, logger, ...(tls ? { tls } : {}) });
  },
  discoveryChannel: (options) => createMuxChannel(options),
  addressOf: (address) => address,
  handleOf: (address) => address,
};

describeTransportConformance('mux', mux);
