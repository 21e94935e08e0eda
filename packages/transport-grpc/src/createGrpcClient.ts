import {
  type Client,
  type ClientOptions,
  createClient,
  type Interceptor,
  type ServiceDefinition,
} from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import { bearerTokenInterceptor, type TokenProvider } from './auth.js';
import { createGrpcChannel, type GrpcChannel, type GrpcChannelOptions } from './GrpcChannel.js';
import { GRPC_SYSTEM } from './GrpcServer.js';

/** Caller identity sent when none is given. */
export const DEFAULT_CALLER = 'anonymous';

/** Options of {@link createGrpcClient}: the channel's and the typed client's. */
export interface GrpcClientOptions extends GrpcChannelOptions, Omit<ClientOptions, 'caller' | 'system'> {
  /**
   * Name of the calling service: the handler's `caller`. Announced once per connection in
   * `user-agent` (see {@link GrpcChannelOptions.caller}), else sent as `x-refront-caller`.
   * @default DEFAULT_CALLER ('anonymous')
   */
  readonly caller?: string;
  /** Bearer token sent with every call (a string, or a function called per call). @default none */
  readonly token?: TokenProvider;
}

/** A typed gRPC client that owns its channel: close it (or `await using`) when done. */
export type GrpcClient<S extends ServiceDefinition> = Client<S> & {
  /** Closes the channel (connections, discovery watch, default policy); idempotent. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
  /** The channel under the client. */
  readonly [GRPC_CHANNEL]: GrpcChannel;
};

/** Key of a {@link GrpcClient}'s channel. */
export const GRPC_CHANNEL: unique symbol = Symbol.for('@refront/transport-grpc/channel');

/**
 * Creates a typed client for a ts-proto contract over gRPC, with every safeguard on: deadline and
 * context propagation, a CLIENT span with `traceparent`, RED metrics, the resilience policy with a
 * circuit breaker per instance, and discovery with one connection per instance.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for bad options, or when the contract has a method
 *   named `close` (use {@link createGrpcChannel} with core's `createClient` then).
 * @example
 * await using echo = createGrpcClient(EchoServiceDefinition, { discovery: registry, service: 'echo', caller: 'demo' });
 * const res = await echo.echo({ message: 'hi' }, { timeoutMs: 2_000 });
 */
export function createGrpcClient<S extends ServiceDefinition>(
  definition: S,
  options: GrpcClientOptions,
): GrpcClient<S> {
  if (Object.hasOwn(definition.methods, 'close')) {
    throw invalidOption(
      `${definition.fullName} has a method named close: use createGrpcChannel with createClient`,
    );
  }
  const caller = options.caller ?? DEFAULT_CALLER;
  const channel = createGrpcChannel({ ...options, caller });
  const interceptors: Interceptor[] = [
    ...(options.token === undefined ? [] : [bearerTokenInterceptor(options.token)]),
    ...(options.interceptors ?? []),
  ];
  const client = createClient(definition, channel, {
    ...options,
    caller,
    system: GRPC_SYSTEM,
    interceptors,
  }) as Record<string | symbol, unknown>;
  const close = (): Promise<void> => channel.close();
  Object.defineProperties(client, {
    close: { value: close },
    [Symbol.asyncDispose]: { value: close },
    [GRPC_CHANNEL]: { value: channel },
  });
  return client as GrpcClient<S>;
}
