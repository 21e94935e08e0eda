import { SpanKind, SpanStatusCode } from '@opentelemetry/api';
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
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const md = call.metadata;
    const byTransport = call instanceof ServerCall && call.cancelledByTransport;
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
    return runWithContext(ctx, () =>
      byTransport ? guardByTransport(ctx, call as ServerCall<Req>, next) : guard(ctx, call, next),
    );
  };
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

function guard<Req, Res>(ctx: MutableRequestContext, call: Call<Req>, next: Next<Req, Res>): Promise<Res> {
  const remaining = ctx.remainingMs();
  if (remaining <= 0) {
    const err = deadlineError();
    ctx.abort(err);
    return Promise.reject(err);
  }
  if (call.signal?.aborted) return Promise.reject(cancelled(call.signal.reason));
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
        return res;
      },
      (e: unknown) => {
        ctx.end();
        throw mapError(ctx, call as Call<unknown>, e);
      },
    );
  }
  return new Promise<Res>((resolve, reject) => {
    const signal = call.signal;
    const onCancel = (): void => {
      const err = cancelled(signal?.reason);
      ctx.abort(err);
      reject(err);
    };
    const timer =
      remaining === Number.POSITIVE_INFINITY
        ? undefined
        : setTimeout(() => {
            const err = deadlineError();
            ctx.abort(err);
            reject(err);
          }, remaining);
    signal?.addEventListener('abort', onCancel, { once: true });
    (call as Abortable)[ABORT] = (reason) => {
      ctx.abort(reason);
      reject(reason);
    };
    const settle = (): void => {
      if (timer) clearTimeout(timer);
      signal?.removeEventListener('abort', onCancel);
      ctx.end();
    };
    pending.then(
      (res) => {
        settle();
        resolve(res);
      },
      (e: unknown) => {
        settle();
        reject(mapError(ctx, call as Call<unknown>, e));
      },
    );
  });
}

/**
 * {@link guard} for a call its transport cancels through {@link ServerCall.cancel}, at its deadline
 * too: no timer and no signal listener, only the promise that lets a cancel answer at once.
 */
function guardByTransport<Req, Res>(
  ctx: MutableRequestContext,
  call: ServerCall<Req>,
  next: Next<Req, Res>,
): Promise<Res> {
  if (ctx.remainingMs() <= 0) {
    const err = deadlineError();
    ctx.abort(err);
    return Promise.reject(err);
  }
  if (call.cancelReason !== undefined) return Promise.reject(cancelled(call.cancelReason));
  let pending: Promise<Res>;
  try {
    pending = next(call);
  } catch (e: unknown) {
    pending = Promise.reject(e);
  }
  return new Promise<Res>((resolve, reject) => {
    const abort = (reason: RefrontError): void => {
      ctx.abort(reason);
      reject(reason);
    };
    call[ABORT] = abort;
    call.onTransportCancel = abort;
    pending.then(
      (res) => {
        call.onTransportCancel = undefined;
        resolve(res);
      },
      (e: unknown) => {
        call.onTransportCancel = undefined;
        reject(mapError(ctx, call as Call<unknown>, e));
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
        span.end();
        return res;
      },
      (e: unknown) => {
        const err = toRefrontError(e);
        span.setAttribute('rpc.grpc.status_code', err.code);
        span.setStatus({ code: SpanStatusCode.ERROR, message: `${err.status} ${err.reason}` });
        span.end();
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
  const histogram = redHistogramOf(
    registry,
    `refront_rpc_${side}_duration_seconds`,
    `Duration of RPCs ${side === 'server' ? 'served' : 'made'}, by method and status (RED).`,
    ['rpc_service', 'rpc_method', 'status'],
  );
  const recorders = new Map<string, RedRecorder>();
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    let recorder = recorders.get(call.method.path);
    if (!recorder) {
      recorder = redRecorder(histogram, { rpc_service: call.method.service, rpc_method: call.method.name });
      recorders.set(call.method.path, recorder);
    }
    const rec = recorder;
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

/** The default server chain: context, span, metrics, outermost first. */
export function defaultServerInterceptors(options: ServerInterceptorOptions): Interceptor[] {
  return [
    serverContextInterceptor(options),
    serverSpanInterceptor(options),
    serverMetricsInterceptor(options),
  ];
}
