import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  createRequestContext,
  type MutableRequestContext,
  type RequestContext,
  runWithContext,
} from './context.js';
import { CoreReason, isRefrontError, RefrontError, toRefrontError } from './errors.js';
import type { Call, Interceptor, Metadata, MethodInfo, Next } from './Interceptor.js';
import type { Logger } from './logger.js';
import { METADATA_CALLER, METADATA_TENANT } from './metadataKeys.js';
import { type MetricsRegistry, type RedRecorder, redRecorder } from './metrics.js';
import { redHistogramOf } from './RedHistogram.js';
import { parseTraceparent, startSpan, TRACEPARENT, withActiveSpan } from './trace.js';

/** Options shared by the default server interceptors. */
export interface ServerInterceptorOptions {
  /** The serving service's name. */
  readonly service: string;
  /** The service logger. */
  readonly logger: Logger;
  /** Registry for RED metrics; none means no metrics. */
  readonly metrics?: MetricsRegistry | undefined;
  /** `rpc.system` of the spans (`grpc`, `refront_mux`, `refront_inproc`). */
  readonly system: string;
}

/**
 * Makes the request context (deadline, caller, tenant, trace parent, cancellation) and runs the
 * rest of the chain inside it. Enforces the deadline: when it passes the handler's signal aborts
 * and the caller gets DEADLINE_EXCEEDED at once. Turns any unexpected throw into INTERNAL, logged
 * with its trace id; the process keeps serving.
 */
export function serverContextInterceptor(options: ServerInterceptorOptions): Interceptor {
  const { service, logger } = options;
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> =>
    runGuarded(call, next, contextOf(call, service, logger), undefined);
}

/** What the fused default chain does once a call is settled: RED metrics and the span's end. */
type Settled = (error: RefrontError | undefined) => void;

function contextOf(call: Call<unknown>, service: string, logger: Logger): MutableRequestContext {
  const md = call.metadata;
  const ctx = createRequestContext({
    service,
    logger,
    deadline: call.deadline,
    caller: md[METADATA_CALLER],
    tenant: md[METADATA_TENANT],
    metadata: md,
    parent: parseTraceparent(md[TRACEPARENT]),
    // No `cancel`: guard and guardByTransport abort the context themselves, with a CANCELLED
    // RefrontError as on every lane, never the caller's own abort reason.
  });
  call.context = ctx;
  return ctx;
}

/** Runs the rest of the chain inside `ctx`, guarded (deadline, cancel, error mapping). */
function runGuarded<Req, Res>(
  call: Call<Req>,
  next: Next<Req, Res>,
  ctx: MutableRequestContext,
  done: Settled | undefined,
): Promise<Res> {
  const byTransport = call instanceof ServerCall && call.cancelledByTransport;
  return runWithContext(ctx, () =>
    byTransport ? guardByTransport(ctx, call as ServerCall<Req>, next, done) : guard(ctx, call, next, done),
  );
}

const ABORT = Symbol('abort');
type Abortable = { [ABORT]?: (reason: RefrontError) => void };

/**
 * A call being served, as the Dispatcher makes it. When its transport reports cancellation through
 * a callback (`Inbound.onCancel`) rather than an AbortSignal, `signal` is made only when something
 * reads it, and the context interceptor sets no deadline timer (such a transport ends the call at
 * its deadline itself), so a call that nobody cancels costs no AbortController, listener or timer.
 * @internal made by the Dispatcher.
 */
export class ServerCall<Req> implements Call<Req> {
  readonly side = 'server' as const;
  context: RequestContext | undefined = undefined;
  target?: string | undefined;
  [ABORT]: ((reason: RefrontError) => void) | undefined = undefined;
  /** Set by the context interceptor: runs once when the transport cancels. */
  onTransportCancel: ((reason: RefrontError) => void) | undefined = undefined;
  private controller: AbortController | undefined;
  private reason: RefrontError | undefined;

  constructor(
    readonly method: MethodInfo,
    public request: Req,
    readonly metadata: Metadata,
    public deadline: number | undefined,
    private readonly inboundSignal: AbortSignal | undefined,
    readonly peer: string | undefined,
    /** Whether the transport cancels through {@link ServerCall.cancel} (and enforces the deadline). */
    readonly cancelledByTransport: boolean,
  ) {}

  get signal(): AbortSignal | undefined {
    if (!this.cancelledByTransport) return this.inboundSignal;
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.reason !== undefined) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** The transport's cancel reason, once cancelled. */
  get cancelReason(): RefrontError | undefined {
    return this.reason;
  }

  /** The transport cancelled the call (client gone, deadline passed); the first reason wins. */
  cancel(reason: RefrontError): void {
    if (this.reason !== undefined) return;
    this.reason = reason;
    this.controller?.abort(reason);
    this.onTransportCancel?.(reason);
  }
}

/**
 * Aborts a call being served (shutdown's grace period ended): its handler's signal aborts and
 * the caller gets `reason` at once. @internal used by the Dispatcher.
 */
export function abortCall(call: Call<unknown>, reason: RefrontError): void {
  const abort = (call as Abortable)[ABORT];
  if (abort) abort(reason);
  else (call.context as MutableRequestContext | undefined)?.abort(reason);
}

function deadlineError(): RefrontError {
  return new RefrontError(
    'DEADLINE_EXCEEDED',
    CoreReason.DEADLINE_EXCEEDED,
    'the deadline passed before the handler finished',
  );
}

function mapError(ctx: MutableRequestContext, call: Call<unknown>, e: unknown): RefrontError {
  if (isRefrontError(e)) return e;
  if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')) return toRefrontError(e);
  ctx.logger.error({ err: e, method: call.method.path }, 'handler failed with an unexpected error');
  return new RefrontError('INTERNAL', CoreReason.INTERNAL, `internal error (trace ${ctx.traceId})`, {
    cause: e,
    details: { metadata: { trace_id: ctx.traceId } },
  });
}

function guard<Req, Res>(
  ctx: MutableRequestContext,
  call: Call<Req>,
  next: Next<Req, Res>,
  done?: Settled,
): Promise<Res> {
  const remaining = ctx.remainingMs();
  if (remaining <= 0) {
    const err = deadlineError();
    ctx.abort(err);
    done?.(err);
    return Promise.reject(err);
  }
  if (call.signal?.aborted) {
    const err = cancelled(call.signal.reason);
    done?.(err);
    return Promise.reject(err);
  }
  let pending: Promise<Res>;
  try {
    pending = next(call);
  } catch (e: unknown) {
    pending = Promise.reject(e);
  }
  if (remaining === Number.POSITIVE_INFINITY && !call.signal) {
    (call as Abortable)[ABORT] = (reason) => ctx.abort(reason);
    return pending.then(
      (res) => {
        ctx.end();
        done?.(undefined);
        return res;
      },
      (e: unknown) => {
        ctx.end();
        const err = mapError(ctx, call as Call<unknown>, e);
        done?.(err);
        throw err;
      },
    );
  }
  return new Promise<Res>((resolve, reject) => {
    const signal = call.signal;
    let finished = false;
    const fail = (err: RefrontError): void => {
      if (finished) return;
      finished = true;
      done?.(err);
      reject(err);
    };
    const onCancel = (): void => {
      const err = cancelled(signal?.reason);
      ctx.abort(err);
      fail(err);
    };
    const timer =
      remaining === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => {
            const err = deadlineError();
            ctx.abort(err);
            fail(err);
          }, remaining);
    signal?.addEventListener('abort', onCancel, { once: true });
    (call as Abortable)[ABORT] = (reason) => {
      ctx.abort(reason);
      fail(reason);
    };
    const settle = (): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
      ctx.end();
    };
    pending.then(
      (res) => {
        settle();
        if (finished) return;
        finished = true;
        done?.(undefined);
        resolve(res);
      },
      (e: unknown) => {
        settle();
        fail(mapError(ctx, call as Call<unknown>, e));
      },
    );
  });
}

function guardByTransport<Req, Res>(
  ctx: MutableRequestContext,
  call: ServerCall<Req>,
  next: Next<Req, Res>,
  done?: Settled,
): Promise<Res> {
  if (ctx.remainingMs() <= 0) {
    const err = deadlineError();
    ctx.abort(err);
    done?.(err);
    return Promise.reject(err);
  }
  if (call.cancelReason !== undefined) {
    const err = cancelled(call.cancelReason);
    done?.(err);
    return Promise.reject(err);
  }
  let pending: Promise<Res>;
  try {
    pending = next(call);
  } catch (e: unknown) {
    pending = Promise.reject(e);
  }
  return new Promise<Res>((resolve, reject) => {
    let finished = false;
    const abort = (reason: RefrontError): void => {
      ctx.abort(reason);
      if (finished) return;
      finished = true;
      done?.(reason);
      reject(reason);
    };
    call[ABORT] = abort;
    call.onTransportCancel = abort;
    pending.then(
      (res) => {
        call.onTransportCancel = undefined;
        if (finished) return;
        finished = true;
        done?.(undefined);
        resolve(res);
      },
      (e: unknown) => {
        call.onTransportCancel = undefined;
        if (finished) return;
        finished = true;
        const err = mapError(ctx, call as Call<unknown>, e);
        done?.(err);
        reject(err);
      },
    );
  });
}

function cancelled(reason: unknown): RefrontError {
  return isRefrontError(reason)
    ? reason
    : new RefrontError('CANCELLED', CoreReason.CANCELLED, 'the caller cancelled the call', { cause: reason });
}

/**
 * Records the authenticated identity of a call being served: the request context's `caller` and
 * the caller metadata become `caller`, replacing what the client claimed. For authentication
 * interceptors, which run inside the context (after {@link serverContextInterceptor}) so that
 * refused calls still get a span and RED metrics.
 *
 * @example
 * const auth: Interceptor = async (call, next) => {
 *   setAuthenticatedCaller(call, await verify(call.metadata.authorization));
 *   return next(call);
 * };
 */
export function setAuthenticatedCaller(call: Call<unknown>, caller: string): void {
  call.metadata[METADATA_CALLER] = caller;
  // The context is this module's own MutableRequestContext; `caller` is read-only to handlers only.
  const ctx = call.context as { caller: string | undefined } | undefined;
  if (ctx) ctx.caller = caller;
}

/** Starts a SERVER span per call (rpc semantic conventions), child of the caller's traceparent. */
export function serverSpanInterceptor(options: ServerInterceptorOptions): Interceptor {
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const ctx = call.context as MutableRequestContext;
    const span = startSpan(call.method.path.slice(1), {
      kind: SpanKind.SERVER,
      parent: ctx.parent,
      attributes: {
        'rpc.system': options.system,
        'rpc.service': call.method.service,
        'rpc.method': call.method.name,
      },
    });
    ctx.span = span;
    if (!span.isRecording()) return next(call);
    return withActiveSpan(span, () => next(call)).then(
      (res) => {
        endSpan(span, undefined);
        return res;
      },
      (e: unknown) => {
        endSpan(span, toRefrontError(e));
        throw e;
      },
    );
  };
}

/** Observes RED metrics per call: `refront_rpc_server_duration_seconds{rpc_service,rpc_method,status}`. */
export function serverMetricsInterceptor(options: ServerInterceptorOptions): Interceptor {
  return metricsInterceptor(options.metrics, 'server');
}

/** @internal shared by the server and client metrics interceptors. */
export function metricsInterceptor(
  registry: MetricsRegistry | undefined,
  side: 'server' | 'client',
): Interceptor {
  if (!registry) return (call, next) => next(call);
  const factsOf = methodFactsCache(registry, side, '');
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const rec = factsOf(call.method).recorder as RedRecorder;
    const start = performance.now();
    return next(call).then(
      (res) => {
        rec.observe('OK', (performance.now() - start) / 1000);
        return res;
      },
      (e: unknown) => {
        rec.observe(isRefrontError(e) ? e.status : 'UNKNOWN', (performance.now() - start) / 1000);
        throw e;
      },
    );
  };
}

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

/**
 * The default server chain as one interceptor: what {@link serverContextInterceptor},
 * {@link serverSpanInterceptor} and {@link serverMetricsInterceptor} do in that order, with one
 * settlement instead of three (the chain runs on every call of every service). The span and the
 * RED metrics see the outcome the caller gets: a deadline or cancel when the guard ends the call,
 * and INTERNAL for an unexpected throw.
 */
export function serverDefaultsInterceptor(options: ServerInterceptorOptions): Interceptor {
  const { service, logger } = options;
  const factsOf = methodFactsCache(options.metrics, 'server', options.system);
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const facts = factsOf(call.method);
    const recorder = facts.recorder;
    const start = recorder ? performance.now() : 0;
    const ctx = contextOf(call as Call<unknown>, service, logger);
    const span = startSpan(facts.spanName, {
      kind: SpanKind.SERVER,
      parent: ctx.parent,
      attributes: facts.attributes,
    });
    ctx.span = span;
    const recording = span.isRecording();
    const done: Settled | undefined =
      recorder || recording
        ? (error) => {
            recorder?.observe(error ? error.status : 'OK', (performance.now() - start) / 1000);
            if (recording) endSpan(span, error);
          }
        : undefined;
    const inner: Next<Req, Res> = recording ? (c) => withActiveSpan(span, () => next(c)) : next;
    return runGuarded(call, inner, ctx, done);
  };
}

/** The default server chain: context, span and metrics (one fused interceptor, see {@link serverDefaultsInterceptor}). */
export function defaultServerInterceptors(options: ServerInterceptorOptions): Interceptor[] {
  return [serverDefaultsInterceptor(options)];
}
