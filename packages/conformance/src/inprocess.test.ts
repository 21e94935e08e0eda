/**
 * The in-process lane (core's InProcessNetwork, the monolith's default) against the conformance
 * suite. Each server gets its own network, which is the handle its channel needs. The lane has
 * no `auth` option of its own: a service that wants token checks in the monolith plugs the same
 * `serverAuthInterceptor` the gRPC server runs, so the factory does exactly that.
 */
import { createInProcessNetwork, type InProcessNetwork } from '@refront/core';
import { serverAuthInterceptor } from '@refront/core/transport';
import { describeTransportConformance } from './describeTransportConformance.js';
import type { TransportFactory } from './TransportFactory.js';

const inProcess: TransportFactory<InProcessNetwork> = {
  system: 'refront_inproc',
  // Messages are copied through their protobuf codecs by default, so bad bytes can be sent. No
  // sockets: no TLS, no connection to cut, no port to restart on, no instances to discover, so
  // those cases are not registered.
  capabilities: { sendsBytes: true, auth: true, tls: false, faults: false, discovery: false },
  async startServer(options) {
    const network = createInProcessNetwork();
    const server = network.createServer({
      service: options.service,
      logger: options.logger,
      interceptors: [
        ...(options.auth ? [serverAuthInterceptor(options.auth)] : []),
        ...(options.interceptors ?? []),
      ],
      ...(options.validator ? { validator: options.validator } : {}),
    });
    for (const c of options.contracts) server.add(c.definition, c.implementation);
    await server.start();
    return { handle: network, drain: (signal) => server.drain(signal), close: () => server.close() };
  },
  channel(network) {
    return { ...network.channel(), close: async () => {} };
  },
};

describeTransportConformance('in-process', inProcess);
