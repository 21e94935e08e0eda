import type { ServiceDefinition } from '@refront/core';
import { type ClientFactory, clientFactory, type RpcClient, type RpcClientOptions } from '@refront/rpc';
import { createMuxChannel, type MuxChannel, type MuxChannelOptions } from './MuxChannel.js';
import { MUX_SYSTEM } from './protocol.js';

/** Options of {@link createMuxClient}: the channel's and the typed client's (`caller` is sent as `x-refront-caller`). */
export interface MuxClientOptions extends MuxChannelOptions, RpcClientOptions {}

/** A typed mux client that owns its channel (`client[CLIENT_CHANNEL]`): close it (or `await using`) when done. */
export type MuxClient<S extends ServiceDefinition> = RpcClient<S, MuxChannel>;

/**
 * Creates a typed client for a ts-proto contract over mux, with the same safeguards as
 * `createGrpcClient` (`@refront/rpc`'s `clientFactory`): deadline and context propagation, a
 * CLIENT span with `traceparent`, RED metrics, the resilience policy with a circuit breaker per
 * instance, and discovery.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for bad options, or when the contract has a method
 *   named `close` (use {@link createMuxChannel} with core's `createClient` then).
 * @example
 * await using echo = createMuxClient(EchoServiceDefinition, { discovery: registry, service: 'echo', caller: 'demo' });
 * const res = await echo.echo({ message: 'hi' }, { timeoutMs: 2_000 });
 */
export const createMuxClient: ClientFactory<MuxClientOptions, MuxChannel> = clientFactory({
  system: MUX_SYSTEM,
  channelFactory: 'createMuxChannel',
  createChannel: (options: MuxClientOptions) => createMuxChannel(options),
});
