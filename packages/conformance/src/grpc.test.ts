/**
 * The gRPC lane (transport-grpc on grpc-js, over real sockets on 127.0.0.1) against the
 * conformance suite. The channel runs without its resilience policy: retries and breakers would
 * change what the caller sees, and the suite tests the lane, not the policy.
 */
import { createGrpcChannel, createGrpcServer, GRPC_SYSTEM } from '@refront/transport-grpc';
import { describeTransportConformance } from './describeTransportConformance.js';
import { networkLane } from './networkLane.js';

describeTransportConformance(
  'gRPC',
  networkLane({ system: GRPC_SYSTEM, createServer: createGrpcServer, createChannel: createGrpcChannel }),
);
