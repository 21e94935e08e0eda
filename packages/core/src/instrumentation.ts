import { type Span, SpanStatusCode } from '@opentelemetry/api';
import type { RefrontError } from './errors.js';
import type { MethodInfo } from './Interceptor.js';
import { type MetricsRegistry, type RedRecorder, redRecorder } from './metrics.js';
import { redHistogramOf } from './RedHistogram.js';

/** Per-method facts the default chains compute once: span name and attributes, RED recorder. */
export interface MethodFacts {
  readonly spanName: string;
  readonly attributes: Readonly<Record<string, string>>;
  readonly recorder: RedRecorder | undefined;
}

/**
 * A per-method cache of {@link MethodFacts} for one side and `rpc.system`, so a call allocates no
 * attribute object, span name or label set.
 */
export function methodFactsCache(
  registry: MetricsRegistry | undefined,
  side: 'server' | 'client',
  system: string,
): (method: MethodInfo) => MethodFacts {
  const histogram = registry
    ? redHistogramOf(
        registry,
        `refront_rpc_${side}_duration_seconds`,
        `Duration of RPCs ${side === 'server' ? 'served' : 'made'}, by method and status (RED).`,
        ['rpc_service', 'rpc_method', 'status'],
      )
    : undefined;
  const cache = new Map<string, MethodFacts>();
  return (method) => {
    let facts = cache.get(method.path);
    if (!facts) {
      facts = {
        spanName: method.path.slice(1),
        attributes: { 'rpc.system': system, 'rpc.service': method.service, 'rpc.method': method.name },
        recorder: histogram
          ? redRecorder(histogram, { rpc_service: method.service, rpc_method: method.name })
          : undefined,
      };
      cache.set(method.path, facts);
    }
    return facts;
  };
}

/** Ends a recorded span with the call's outcome. */
export function endSpan(span: Span, error: RefrontError | undefined): void {
  if (error) {
    span.setAttribute('rpc.grpc.status_code', error.code);
    span.setStatus({ code: SpanStatusCode.ERROR, message: `${error.status} ${error.reason}` });
  }
  span.end();
}
