import {
  type Client,
  type ClientOptions,
  createClient,
  type Interceptor,
  type ServiceDefinition,
} from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import { bearerTokenInterceptor, type TokenProvider } from './auth.js';
import { createMuxChannel, type MuxChannel, type MuxChannelOptions } from './MuxChannel.js';
import { MUX_SYSTEM } from './protocol.js';

/** Caller identity sent when none is given. */
export const DEFAULT_CALLER = 'anonymous';

/** Options of {@link createMuxClient}: the channel's and the typed client's. */
export interface MuxClientOptions extends MuxChannelOptions, Omit<ClientOptions, 'caller' | 'system'> {
  /** Name of the calling service, sent as `x-refront-caller`. @default DEFAULT_CALLER ('anonymous') */
  readonly caller?: string;
  /** Bearer token sent with every call (a string, or a function called per call). @default none */
  readonly token?: TokenProvider;
}

/** Key of a {@link MuxClient}'s channel. */
export const MUX_CHANNEL: unique symbol = Symbol.for('@refront/transport-mux/channel');

/** A typed mux client that owns its channel: close it (or `await using`) when done. */
export type MuxClient<S extends ServiceDefinition> = Client<S> & {
  /** Closes the channel (connections, discovery watch, default policy); idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** The channel under the client. */
  readonly [MUX_CHANNEL]: MuxChannel;
};

/**
 * Creates a typed client for a ts-proto contract over mux, with the same safeguards as
 * `createGrpcClient`: deadline and context propagation, a CLIENT span with `traceparent`, RED
 * metrics, the resilience policy with a circuit breaker per instance, and discovery.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for bad options, or when the contract has a method
 *   named `close` (use {@link createMuxChannel} with core's `createClient` then).
 * @example
 * await using echo = createMuxClient(EchoServiceDefinition, { discovery: registry, service: 'echo', caller: 'demo' });
 * const res = await echo.echo({ message: 'hi' }, { timeoutMs: 2_000 });
 */
export function createMuxClient<S extends ServiceDefinition>(
  definition: S,
  options: MuxClientOptions,
): MuxClient<S> {
  if (Object.hasOwn(definition.methods, 'close')) {
    throw invalidOption(
      `${definition.fullName} has a method named close: use createMuxChannel with createClient`,
    );
  }
  const channel = createMuxChannel(options);
  const interceptors: Interceptor[] = [
    ...(options.token === undefined ? [] : [bearerTokenInterceptor(options.token)]),
    ...(options.interceptors ?? []),
  ];
  const client = createClient(definition, channel, {
    ...options,
    caller: options.caller ?? DEFAULT_CALLER,
    system: MUX_SYSTEM,
    interceptors,
  }) as Record<string | symbol, unknown>;
  const close = (): Promise<void> => channel.close();
  Object.defineProperties(client, {
    close: { value: close },
    [Symbol.asyncDispose]: { value: close },
    [MUX_CHANNEL]: { value: channel },
  });
  return client as MuxClient<S>;
}
