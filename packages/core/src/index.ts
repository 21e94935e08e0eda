export {
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
export type { ErrorDetails, FieldViolation, RefrontErrorJson, RefrontErrorOptions, Status } from './errors.js';
export { DisposableStore, toDisposable } from './DisposableStore.js';
export type { Disposable } from './DisposableStore.js';
export type { AttemptContext, ExecuteOptions, Policy } from './Policy.js';
export type {
  HealthCheck,
  RegisterOptions,
  Registration,
  Registry,
  ResolveOptions,
  ServiceInstance,
} from './Registry.js';
export { createRequestContext, currentContext, runWithContext } from './context.js';
export type { RequestContext, RequestContextInit } from './context.js';
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
export type { StartSpanOptions } from './trace.js';
export { createLogger, DEFAULT_LOG_LEVEL } from './logger.js';
export type { Logger, LoggerOptions } from './logger.js';
export { createMetricsRegistry, DEFAULT_LATENCY_BUCKETS, histogramOf, redRecorder } from './metrics.js';
export type { MetricsRegistry, MetricsRegistryOptions, RedRecorder } from './metrics.js';
export { bindChain, compose } from './Interceptor.js';
export type { Call, Interceptor, Metadata, MethodInfo, Next } from './Interceptor.js';
