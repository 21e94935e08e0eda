/** Test fixtures: the Echo contract served over gRPC on 127.0.0.1 (the shared parts: `@refront/rpc-testing`). */
import { type EchoServer as LaneEchoServer, logger, startEchoServerOn } from '@refront/rpc-testing';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { createGrpcClient, type GrpcClient, type GrpcClientOptions } from '../createGrpcClient.js';
import { createGrpcServer, type GrpcServer, type GrpcServerOptions } from '../GrpcServer.js';

export type { SleepObservation } from '@refront/rpc-testing';
export { echoImplementation, logger, rejection, testCert } from '@refront/rpc-testing';
export { EchoServiceDefinition };

/** A started Echo gRPC server on 127.0.0.1 with its metrics and sleep log. */
export type EchoServer = LaneEchoServer<GrpcServer>;

/** Starts an Echo gRPC server on a free port of 127.0.0.1. */
export function startEchoServer(
  name = 'echo-1',
  options: Partial<GrpcServerOptions> = {},
): Promise<EchoServer> {
  return startEchoServerOn((base) => createGrpcServer({ ...base, ...options }), name);
}

/** A typed Echo client to `target`. */
export function echoClient(
  target: string,
  options: Partial<GrpcClientOptions> = {},
): GrpcClient<typeof EchoServiceDefinition> {
  return createGrpcClient(EchoServiceDefinition, { target, caller: 'tester', logger, ...options });
}
