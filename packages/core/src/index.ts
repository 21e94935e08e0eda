export type { Principal, ServerAuthOptions, TokenProvider, TokenVerifier, VerifyInfo } from './auth.js';
export {
  bearerTokenInterceptor,
  defaultPeerIdentity,
  METADATA_CLAIM_PREFIX,
  METADATA_PEER_IDENTITY,
  METADATA_PRINCIPAL,
  RESERVED_METADATA,
  serverAuthInterceptor,
} from './auth.js';
export type { AllowedMethods, CallerRules } from './callerPolicy.js';
export type { Env } from './config.js';
export { ConfigError, loadConfig } from './config.js';
export type { RequestContext, RequestContextInit } from './context.js';
export { createRequestContext, currentContext, runWithContext } from './context.js';
export type {
  CallOptions,
  Client,
  DeepPartial,
  Finishable,
  HandlerContext,
  MessageType,
  MethodDefinition,
  RequestOf,
  ResponseOf,
  ServiceDefinition,
  ServiceImplementation,
} from './contracts.js';
export type { Channel, ClientMethod, ClientOptions } from './createClient.js';
export {
  clientContextInterceptor,
  clientDefaultsInterceptor,
  clientSpanInterceptor,
  createClient,
  defaultClientInterceptors,
  methodsOf,
} from './createClient.js';
export { DeadlineWheel, type DeadlineWheelOptions, type Expirable } from './DeadlineWheel.js';
export type { DeliveryOutcome } from './DeliveryOutcome.js';
export type { Disposable } from './DisposableStore.js';
export { DisposableStore, toDisposable } from './DisposableStore.js';
export { decodeEventBody, JSON_CONTENT_TYPE } from './decodeEventBody.js';
export { decodeMessage } from './decodeMessage.js';
export type { EventDispatcherOptions } from './EventDispatcher.js';
export {
  createEventDispatcher,
  EventDispatcher,
  METADATA_CORRELATION_ID,
  METADATA_EVENT_ID,
} from './EventDispatcher.js';
export { encodeMessage } from './encodeMessage.js';
export { encodeEvent } from './envelope.js';
export type {
  ErrorDetails,
  FieldViolation,
  RefrontErrorJson,
  RefrontErrorOptions,
  Status,
} from './errors.js';
export {
  asUnprocessed,
  CoreReason,
  HTTP_STATUS,
  invalidOption,
  isRefrontError,
  isStatus,
  RefrontError,
  STATUS_CODES,
  statusFromCode,
  toRefrontError,
} from './errors.js';
export type {
  DeadLetter,
  EventBinding,
  EventBus,
  EventContext,
  EventEnvelope,
  EventHandler,
  PublishOptions,
  SubscribeOptions,
  Subscription,
} from './events.js';
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_RETRY_DELAYS_MS,
  on,
  PROTOBUF_CONTENT_TYPE,
} from './events.js';
export type { InProcessEventBusOptions } from './InProcessEventBus.js';
export { createInProcessEventBus, GROUP_NAME, InProcessEventBus } from './InProcessEventBus.js';
export type { InProcessNetworkOptions, InProcessServer, InProcessServerOptions } from './InProcessNetwork.js';
export { createInProcessNetwork, INPROC_SYSTEM, InProcessNetwork } from './InProcessNetwork.js';
export type { Call, Interceptor, Metadata, MethodInfo, Next } from './Interceptor.js';
export { bindChain, compose } from './Interceptor.js';
export {
  deriveIdempotencyKey,
  invalidIdempotencyKey,
  isValidIdempotencyKey,
  MAX_IDEMPOTENCY_KEY_LENGTH,
} from './idempotencyKey.js';
export type { Logger, LoggerOptions } from './logger.js';
export { createLogger, DEFAULT_LOG_LEVEL } from './logger.js';
export type { MessageCheck, MessageValidator } from './MessageValidator.js';
export { invalidMessage } from './MessageValidator.js';
export {
  DEFAULT_CALL_TIMEOUT_MS,
  METADATA_CALLER,
  METADATA_IDEMPOTENCY_KEY,
  METADATA_TENANT,
} from './metadataKeys.js';
export type { MetricsRegistry, MetricsRegistryOptions, RedRecorder } from './metrics.js';
export {
  counterOf,
  createMetricsRegistry,
  histogramOf,
  redRecorder,
} from './metrics.js';
export type { OpsServerOptions, ReadinessCheck } from './OpsServer.js';
export { READINESS_CHECK_TIMEOUT_MS, startOpsServer } from './OpsServer.js';
export type { AttemptContext, ExecuteOptions, Policy } from './Policy.js';
export type { HistogramSeries } from './RedHistogram.js';
export { DEFAULT_LATENCY_BUCKETS, RedHistogram, redHistogramOf } from './RedHistogram.js';
export type {
  HealthCheck,
  RegisterOptions,
  Registration,
  Registry,
  ResolveOptions,
  ServiceInstance,
} from './Registry.js';
export type { CallHandle, DispatcherOptions, Inbound, RpcServer, ServerMethod } from './RpcServer.js';
export { createDispatcher, Dispatcher } from './RpcServer.js';
export type { Service, ServiceComponent, ServiceOptions, ServiceState } from './Service.js';
export { createService, DEFAULT_GRACE_PERIOD_MS } from './Service.js';
export type { Reply, ServerInterceptorOptions } from './serverInterceptors.js';
export {
  defaultServerInterceptors,
  serverContextInterceptor,
  serverDefaultsInterceptor,
  serverMetricsInterceptor,
  serverSpanInterceptor,
  setAuthenticatedCaller,
} from './serverInterceptors.js';
export type { TracingHandle, TracingOptions } from './setupTracing.js';
export { setupTracing } from './setupTracing.js';
export type { StartSpanOptions } from './trace.js';
export {
  formatTraceparent,
  parseTraceparent,
  randomSpanId,
  randomTraceId,
  refrontTracer,
  startSpan,
  TRACEPARENT,
  TRACESTATE,
  withActiveSpan,
} from './trace.js';
