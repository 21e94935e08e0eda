import type { ServiceDefinition } from '@refront/core';
import { type ClientFactory, clientFactory, type RpcClient, type RpcClientOptions } from '@refront/rpc';
import { createGrpcChannel, type GrpcChannel, type GrpcChannelOptions } from './GrpcChannel.js';
import { GRPC_SYSTEM } from './GrpcServer.js';

/** Options of {@link createGrpcClient}: the channel's and the typed client's. */
export interface GrpcClientOptions extends GrpcChannelOptions, RpcClientOptions {
  /**
   * Name of the calling service: the handler's `caller`. Announced once per connection in
   * `user-agent` (see {@link GrpcChannelOptions.caller}), else sent as `x-refront-caller`.
   * @default DEFAULT_CALLER ('anonymous', from `@refront/rpc`)
   */
  readonly caller?: string;
}

/** A typed gRPC client that owns its channel (`client[CLIENT_CHANNEL]`): close it (or `await using`) when done. */
export type GrpcClient<S extends ServiceDefinition> = RpcClient<S, GrpcChannel>;

/**
 * Creates a typed client for a ts-proto contract over gRPC, with every safeguard on: deadline and
 * context propagation, a CLIENT span with `traceparent`, RED metrics, the resilience policy with a
 * circuit breaker per instance, and discovery with one connection per instance (`@refront/rpc`'s
 * `clientFactory`).
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for bad options, or when the contract has a method
 *   named `close` (use {@link createGrpcChannel} with core's `createClient` then).
 * @example
 * await using echo = createGrpcClient(EchoServiceDefinition, { discovery: registry, service: 'echo', caller: 'demo' });
 * const res = await echo.echo({ message: 'hi' }, { timeoutMs: 2_000 });
 */
export const createGrpcClient: ClientFactory<GrpcClientOptions, GrpcChannel> = clientFactory({
  system: GRPC_SYSTEM,
  channelFactory: 'createGrpcChannel',
  createChannel: (options: GrpcClientOptions, caller) => createGrpcChannel({ ...options, caller }),
});
