/**
 * The mux lane (transport-mux, over real sockets on 127.0.0.1) against the conformance suite.
 * Like the gRPC wiring, the channel runs without its resilience policy: the suite tests the lane.
 */
import { createMuxChannel, createMuxServer, MUX_SYSTEM } from '@refront/transport-mux';
import { describeTransportConformance } from './describeTransportConformance.js';
import { networkLane } from './networkLane.js';

describeTransportConformance(
  'mux',
  networkLane({ system: MUX_SYSTEM, createServer: createMuxServer, createChannel: createMuxChannel }),
);
