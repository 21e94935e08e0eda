import { type Span, type SpanContext, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import { type MetricsRegistry, startSpan } from '@refront/core';
import { formatTraceparent, parseTraceparent, redHistogramOf, TRACEPARENT } from '@refront/core/transport';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Principal } from './auth.js';

/** Name of the gateway's RED histogram. */
export const HTTP_DURATION_METRIC = 'refront_http_server_duration_seconds';
/** `route` label of requests that matched no route (keeps the label's cardinality bounded). */
export const UNMATCHED_ROUTE = '(unmatched)';

/** What the gateway knows about a request in flight. */
export interface RequestState {
  /** The SERVER span of the request. */
  readonly span: Span;
  /** The caller's span, from its `traceparent`, if any. */
  readonly parent: SpanContext | undefined;
  /** Set once the bearer token verified. */
  principal: Principal | undefined;
  /** `performance.now()` when the request arrived. */
  readonly startedAt: number;
  ended: boolean;
}

const states = new WeakMap<FastifyRequest, RequestState>();

/** The state of a request; present from the first hook on. */
export function stateOf(request: FastifyRequest): RequestState | undefined {
  return states.get(request);
}

/** Trace id of a request (empty before its span started, which no handler sees). */
export function traceIdOf(request: FastifyRequest): string {
  return states.get(request)?.span.spanContext().traceId ?? '';
}

function headerValue(v: string | string[] | undefined): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Adds the hooks that make each request observable: a SERVER span (child of the caller's W3C
 * `traceparent`, HTTP semantic-convention attributes) whose `traceparent` goes back in the
 * response, and a RED histogram `refront_http_server_duration_seconds{method,route,status}`.
 */
export function addObservabilityHooks(app: FastifyInstance, metrics: MetricsRegistry): void {
  const histogram = redHistogramOf(
    metrics,
    HTTP_DURATION_METRIC,
    'Duration of HTTP requests served by the gateway, by method, route and status (RED).',
    ['method', 'route', 'status'],
  );

  app.addHook('onRequest', async (request, reply) => {
    const parent = parseTraceparent(headerValue(request.headers[TRACEPARENT]));
    const route = request.routeOptions.url;
    const span = startSpan(route ? `${request.method} ${route}` : request.method, {
      kind: SpanKind.SERVER,
      parent,
      attributes: {
        // The service the span ran in, for viewers (the console) when one process hosts several.
        'refront.service': 'gateway',
        'http.request.method': request.method,
        'url.path': request.url.split('?')[0] ?? '/',
        'url.scheme': request.protocol,
        ...(route ? { 'http.route': route } : {}),
        ...(request.headers['user-agent'] ? { 'user_agent.original': request.headers['user-agent'] } : {}),
        'client.address': request.ip,
        'network.protocol.version': request.raw.httpVersion,
      },
    });
    states.set(request, { span, parent, principal: undefined, startedAt: performance.now(), ended: false });
    reply.header(TRACEPARENT, formatTraceparent(span.spanContext()));
  });

  const finish = (request: FastifyRequest, status: number, aborted: boolean): void => {
    const state = states.get(request);
    if (!state || state.ended) return;
    state.ended = true;
    histogram
      .child({
        method: request.method,
        route: request.routeOptions.url ?? UNMATCHED_ROUTE,
        status: String(status),
      })
      .observe((performance.now() - state.startedAt) / 1000);
    const { span } = state;
    if (!span.isRecording()) return;
    span.setAttribute('http.response.status_code', status);
    if (state.principal) span.setAttribute('refront.tenant', state.principal.tenant);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR, message: String(status) });
    if (aborted) span.setStatus({ code: SpanStatusCode.ERROR, message: 'client closed the request' });
    span.end();
  };
  app.addHook('onResponse', async (request, reply) => finish(request, reply.statusCode, false));
  // The client went away before an answer: no onResponse follows; 499 as nginx logs it.
  app.addHook('onRequestAbort', async (request) => finish(request, 499, true));
}
