/** Test fixtures: the Echo contract served over mux on 127.0.0.1 (the shared parts: `@refront/rpc-testing`). */
import { type EchoServer as LaneEchoServer, logger, startEchoServerOn } from '@refront/rpc-testing';
import { EchoServiceDefinition } from '@refront/test-contracts';
import { createMuxClient, type MuxClient, type MuxClientOptions } from '../createMuxClient.js';
import { createMuxServer, type MuxServer, type MuxServerOptions } from '../MuxServer.js';

export { capturingLogger, logger, rejection, testCert } from '@refront/rpc-testing';
export { EchoServiceDefinition };

/** A started Echo mux server on 127.0.0.1 with its metrics and sleep log. */
export type EchoServer = LaneEchoServer<MuxServer>;

/** Starts an Echo mux server on a free port of 127.0.0.1. */
export function startEchoServer(
  name = 'echo-1',
  options: Partial<MuxServerOptions> = {},
): Promise<EchoServer> {
  return startEchoServerOn((base) => createMuxServer({ ...base, ...options }), name);
}

/** A typed Echo client to `target`. */
export function echoClient(
  target: string,
  options: Partial<MuxClientOptions> = {},
): MuxClient<typeof EchoServiceDefinition> {
  return createMuxClient(EchoServiceDefinition, { target, caller: 'tester', logger, ...options });
}
