/**
 * The in-process lane (core's InProcessNetwork, the monolith's default) against the conformance
 * suite. Each server gets its own network, which is the handle its channel needs. Its servers
 * take the same `auth` as the network lanes' (one `serverAuthInterceptor`); the identity a
 * network lane reads from a client certificate is the in-process channel's caller.
 */
import { createInProcessNetwork, type InProcessNetwork } from '@refront/core';
import { describeTransportConformance } from './describeTransportConformance.js';
import type { TransportFactory } from './TransportFactory.js';

const inProcess: TransportFactory<InProcessNetwork> = {
  system: 'refront_inproc',
  // Messages are copied through their protobuf codecs by default, so bad bytes can be sent. No
  // sockets: no TLS, no connection to cut, no port to restart on, no instances to discover, so
  // those cases are not registered.
  capabilities: {
    sendsBytes: true,
    auth: true,
    tls: false,
    faults: false,
    discovery: false,
    channelCaller: true,
  },
  async startServer(options) {
    const network = createInProcessNetwork();
    const server = network.createServer({
      service: options.service,
      logger: options.logger,
      ...(options.auth ? { auth: options.auth } : {}),
      ...(options.interceptors ? { interceptors: options.interceptors } : {}),
      ...(options.validator ? { validator: options.validator } : {}),
    });
    for (const c of options.contracts) server.add(c.definition, c.implementation);
    await server.start();
    return { handle: network, drain: (signal) => server.drain(signal), close: () => server.close() };
  },
  channel(network, { caller }) {
    return { ...network.channel(caller === undefined ? {} : { caller }), close: async () => {} };
  },
};

describeTransportConformance('in-process', inProcess);
