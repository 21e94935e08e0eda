import { Client, connectivityState } from '@grpc/grpc-js';
import type { Logger } from '@refront/core';
import { createRpcChannel, type RpcChannel, type RpcChannelOptions } from '@refront/rpc';
import type { GrpcConnector } from './internal/GrpcConnector.js';
import { callerAgent } from './internal/metadata.js';
import { OutgoingCall } from './internal/OutgoingCall.js';
import { type ConnectionOptions, channelCredentials, channelOptions } from './options.js';

/** Options of {@link createGrpcChannel}: where calls go and how they are guarded. */
export interface GrpcChannelOptions extends RpcChannelOptions, ConnectionOptions {
  /**
   * One fixed target, in grpc-js syntax (`10.0.0.7:50051`, `dns:///tickets:50051`, `unix:/run/t.sock`).
   * Give either `target` or `discovery` with `service`; each discovered instance gets its own connection.
   */
  readonly target?: string;
  /**
   * Name of the calling service, announced once per connection in `user-agent`
   * (`refront/<caller> grpc-node-js/…`, which a Refront server reads as the caller): calls whose
   * `x-refront-caller` is this name then do not carry the header. A name with a space or a
   * non-ASCII character, or a `grpc.primary_user_agent` in `grpcOptions`, keeps the header on
   * every call. {@link createGrpcClient} sets it from its `caller`.
   * @default none (every call carries its `x-refront-caller`)
   */
  readonly caller?: string | undefined;
}

/** A gRPC {@link RpcChannel} (`send` makes one grpc-js call per attempt): give it to core's `createClient`. Owns its connections. */
export interface GrpcChannel extends RpcChannel {}

/** grpc-js would fail a call at once on a connection in TRANSIENT_FAILURE: pass its instance over. */
function isDown(client: Client): boolean {
  return client.getChannel().getConnectivityState(false) === connectivityState.TRANSIENT_FAILURE;
}

function grpcConnector(options: GrpcChannelOptions, logger: Logger): GrpcConnector {
  const { credentials: creds, tls } = channelCredentials(options.tls, { logger, metrics: options.metrics });
  const opts = channelOptions('client', options, options.tls);
  const agent = callerAgent(options.caller);
  let announced: string | undefined;
  if (agent !== undefined && opts['grpc.primary_user_agent'] === undefined) {
    opts['grpc.primary_user_agent'] = agent;
    announced = options.caller;
  }
  return {
    announced,
    dial: (target) => new Client(target, creds, opts),
    // Each instance gets its own HTTP/2 connection, so calls spread over every pod even behind one DNS name.
    connect: (_instance, hostPort) => new Client(hostPort, creds, opts),
    close: (client) => client.close(),
    isDown,
    closed: () => tls?.close(),
  };
}

/**
 * Creates a gRPC channel for core's `createClient`. Each call: resolve (once per service, then a
 * background watch) → balancer → resilience policy (timeout, bulkhead, retry, a circuit breaker per
 * instance) → grpc-js call on that instance's own connection, with the remaining deadline as
 * `grpc-timeout` and the call's metadata (traceparent, caller, tenant).
 *
 * @throws RefrontError `CORE_INVALID_OPTION` without exactly one of target and discovery, or for
 *   a bad limit; `GRPC_BAD_CREDENTIALS` when a PEM file cannot be read.
 * @example
 * const channel = createGrpcChannel({ discovery: registry, service: 'tickets' });
 * const tickets = createClient(TicketsServiceDefinition, channel, { caller: 'time-tracking' });
 */
export function createGrpcChannel(options: GrpcChannelOptions): GrpcChannel {
  return createRpcChannel(options, {
    lane: 'grpc',
    connector: (logger) => grpcConnector(options, logger),
    Call: OutgoingCall,
  });
}
