/**
 * What an application uses: a service with its lifecycle, typed config, the request context,
 * typed clients and errors, events, logs, metrics and traces, and the in-process network and
 * bus. What only transports and other Refront packages need lives in `@refront/core/transport`.
 * @packageDocumentation
 */
export type { Principal, ServerAuthOptions, TokenProvider, TokenVerifier } from './auth.js';
export { bearerTokenInterceptor } from './auth.js';
export type { CallerRules } from './callerPolicy.js';
export type { Env } from './config.js';
export { ConfigError, loadConfig } from './config.js';
export type { RequestContext } from './context.js';
export { createRequestContext, currentContext, runWithContext } from './context.js';
export type {
  CallOptions,
  Client,
  HandlerContext,
  MessageType,
  RequestOf,
  ResponseOf,
  ServiceDefinition,
  ServiceImplementation,
} from './contracts.js';
export { CoreErrors, CoreReason, toRefrontError } from './coreErrors.js';
export type { Channel, ClientOptions } from './createClient.js';
export { createClient } from './createClient.js';
export { defineErrors } from './defineErrors.js';
export type { ErrorDetails, FieldViolation, Status } from './errors.js';
export { HTTP_STATUS, isRefrontError, RefrontError } from './errors.js';
export type {
  EventBus,
  EventContext,
  EventHandler,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from './events.js';
export { on } from './events.js';
export { createInProcessEventBus, InProcessEventBus } from './InProcessEventBus.js';
export { createInProcessNetwork, InProcessNetwork } from './InProcessNetwork.js';
export type { Call, Interceptor, MethodInfo } from './Interceptor.js';
export { isValidIdempotencyKey } from './idempotencyKey.js';
export type { Logger } from './logger.js';
export { createLogger } from './logger.js';
export type { MessageValidator } from './MessageValidator.js';
export { METADATA_IDEMPOTENCY_KEY } from './metadataKeys.js';
export type { MetricsRegistry } from './metrics.js';
export { counterOf, createMetricsRegistry, histogramOf } from './metrics.js';
export type { Policy } from './Policy.js';
export type { Registry, ServiceInstance } from './Registry.js';
export type { RpcServer } from './RpcServer.js';
export type { Service, ServiceComponent, ServiceOptions } from './Service.js';
export { createService } from './Service.js';
export type { TracingHandle } from './setupTracing.js';
export { setupTracing } from './setupTracing.js';
export { startSpan, withActiveSpan } from './trace.js';
