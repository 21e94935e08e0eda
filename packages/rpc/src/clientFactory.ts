import {
  bearerTokenInterceptor,
  type Client,
  type ClientOptions,
  createClient,
  type Interceptor,
  type ServiceDefinition,
  type TokenProvider,
} from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import type { RpcChannel } from './RpcChannel.js';

/** Caller identity sent when none is given. */
export const DEFAULT_CALLER = 'anonymous';

/** Key of an {@link RpcClient}'s channel: `client[CLIENT_CHANNEL].connectedInstances()`. */
export const CLIENT_CHANNEL: unique symbol = Symbol.for('@refront/rpc/channel');

/** What every lane's client factory takes besides its channel options: the typed client's options. */
export interface RpcClientOptions extends Omit<ClientOptions, 'caller' | 'system'> {
  /** Name of the calling service: the handler's `caller`. @default DEFAULT_CALLER ('anonymous') */
  readonly caller?: string;
  /** Bearer token sent with every call (a string, or a function called per call). @default none */
  readonly token?: TokenProvider;
}

/** A typed client that owns its channel (`Ch`): close it (or `await using`) when done. */
export type RpcClient<S extends ServiceDefinition, Ch extends RpcChannel = RpcChannel> = Client<S> & {
  /** Closes the channel (connections, discovery watch, default policy); idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** The channel under the client. */
  readonly [CLIENT_CHANNEL]: Ch;
};

/** How one lane makes the channel of its clients; `O` are the lane's client options. */
export interface ClientLane<O extends RpcClientOptions, Ch extends RpcChannel> {
  /** `rpc.system` of the clients' spans. */
  readonly system: string;
  /** The lane's channel factory, named in the error for a contract with a `close` method. */
  readonly channelFactory: string;
  /** Makes a client's channel from its options and the caller it announces. */
  createChannel(options: O, caller: string): Ch;
}

/** A lane's client factory, as {@link clientFactory} makes it. */
export type ClientFactory<O extends RpcClientOptions, Ch extends RpcChannel> = <S extends ServiceDefinition>(
  definition: S,
  options: O,
) => RpcClient<S, Ch>;

/**
 * Makes a lane's client factory. Each client is core's `createClient` (deadline and context
 * propagation, a CLIENT span with `traceparent`, RED metrics) over a channel of its own (the
 * policy with a circuit breaker per instance, discovery), with the bearer `token` first among
 * the interceptors, and `close()` closing the channel. The factory throws RefrontError
 * `CORE_INVALID_OPTION` for a contract with a method named `close` (use the lane's channel
 * factory with core's `createClient` then), and whatever the channel throws.
 *
 * @example
 * export const createMuxClient: ClientFactory<MuxClientOptions, MuxChannel> = clientFactory({
 *   system: MUX_SYSTEM,
 *   channelFactory: 'createMuxChannel',
 *   createChannel: (options) => createMuxChannel(options),
 * });
 */
export function clientFactory<O extends RpcClientOptions, Ch extends RpcChannel>(
  lane: ClientLane<O, Ch>,
): ClientFactory<O, Ch> {
  return <S extends ServiceDefinition>(definition: S, options: O): RpcClient<S, Ch> => {
    if (Object.hasOwn(definition.methods, 'close')) {
      throw invalidOption(
        `${definition.fullName} has a method named close: use ${lane.channelFactory} with createClient`,
      );
    }
    const caller = options.caller ?? DEFAULT_CALLER;
    const channel = lane.createChannel(options, caller);
    const interceptors: Interceptor[] = [
      ...(options.token === undefined ? [] : [bearerTokenInterceptor(options.token)]),
      ...(options.interceptors ?? []),
    ];
    const client = createClient(definition, channel, {
      ...options,
      caller,
      system: lane.system,
      interceptors,
    }) as Record<string | symbol, unknown>;
    const close = (): Promise<void> => channel.close();
    Object.defineProperties(client, {
      close: { value: close },
      [Symbol.asyncDispose]: { value: close },
      [CLIENT_CHANNEL]: { value: channel },
    });
    return client as RpcClient<S, Ch>;
  };
}
