/**
 * `@refront/core/transport`: what transports, discovery, resilience and the other Refront
 * packages build on (the Dispatcher, the default chains as interceptors, codecs, wire metadata
 * keys, trace propagation, the event dispatcher). An application needs only `@refront/core`.
 * @packageDocumentation
 */
export type { VerifyInfo } from './auth.js';
export {
  defaultPeerIdentity,
  METADATA_CLAIM_PREFIX,
  METADATA_PEER_IDENTITY,
  METADATA_PRINCIPAL,
  RESERVED_METADATA,
  serverAuthInterceptor,
  setAuthenticatedCaller,
} from './auth.js';
export type { AllowedMethods } from './callerPolicy.js';
export type { ClientDefaultsOptions } from './clientDefaults.js';
export { clientDefaultsInterceptor } from './clientDefaults.js';
export type { DeepPartial, Finishable, MethodDefinition } from './contracts.js';
export { invalidOption } from './coreErrors.js';
export type { ClientMethod } from './createClient.js';
export { methodsOf } from './createClient.js';
export { DeadlineWheel, type DeadlineWheelOptions, type Expirable } from './DeadlineWheel.js';
export type { DeliveryOutcome } from './DeliveryOutcome.js';
export type { DispatcherOptions } from './Dispatcher.js';
export { createDispatcher, Dispatcher } from './Dispatcher.js';
export type { Disposable } from './DisposableStore.js';
export { DisposableStore, toDisposable } from './DisposableStore.js';
export { decodeEventBody, JSON_CONTENT_TYPE } from './decodeEventBody.js';
export { decodeMessage } from './decodeMessage.js';
export type { ErrorFactory, ErrorRegistry, ErrorSpec } from './defineErrors.js';
export { ERRORS_DOC, reasonsOf } from './defineErrors.js';
export type { EventDispatcherOptions } from './EventDispatcher.js';
export {
  createEventDispatcher,
  EventDispatcher,
  METADATA_CORRELATION_ID,
  METADATA_EVENT_ID,
} from './EventDispatcher.js';
export { encodeMessage } from './encodeMessage.js';
export { encodeEvent } from './envelope.js';
export type { RefrontErrorJson, RefrontErrorOptions } from './errors.js';
export { asUnprocessed, isStatus, STATUS_CODES, statusFromCode } from './errors.js';
export type { DeadLetter, EventBinding, EventEnvelope } from './events.js';
export {
  DEFAULT_CONCURRENCY,
  DEFAULT_HANDLER_TIMEOUT_MS,
  DEFAULT_RETRY_DELAYS_MS,
  PROTOBUF_CONTENT_TYPE,
} from './events.js';
export type { FindInfraOptions, InfraServer } from './findInfra.js';
export { findInfra, infraUrl } from './findInfra.js';
export type { CallHandle, Inbound, ServerMethod } from './Inbound.js';
export { GROUP_NAME } from './InProcessEventBus.js';
export type { Metadata, Next } from './Interceptor.js';
export { bindChain, compose } from './Interceptor.js';
export { deriveIdempotencyKey, invalidIdempotencyKey } from './idempotencyKey.js';
export { importOptional } from './importOptional.js';
export type { MessageCheck } from './MessageValidator.js';
export { invalidMessage } from './MessageValidator.js';
export { DEFAULT_CALL_TIMEOUT_MS, METADATA_CALLER, METADATA_ROLES, METADATA_TENANT } from './metadataKeys.js';
export type { RedRecorder } from './metrics.js';
export { redRecorder } from './metrics.js';
export type { OpsHandler } from './OpsServer.js';
export type { AttemptContext, ExecuteOptions } from './Policy.js';
export type { HistogramSeries } from './RedHistogram.js';
export { RedHistogram, redHistogramOf } from './RedHistogram.js';
export type { HealthCheck, RegisterOptions, Registration, ResolveOptions } from './Registry.js';
export type { Reply } from './Reply.js';
export type { ServiceState } from './Service.js';
export type { ServerDefaultsOptions } from './serverDefaults.js';
export { serverDefaultsInterceptor } from './serverDefaults.js';
export { sleep } from './sleep.js';
export type { StartSpanOptions } from './trace.js';
export { formatTraceparent, parseTraceparent, randomTraceId, TRACEPARENT } from './trace.js';
