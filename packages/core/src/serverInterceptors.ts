import { type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';
import {
  createRequestContext,
  type MutableRequestContext,
  type RequestContext,
  runInContext,
} from './context.js';
import { CoreReason, isRefrontError, RefrontError, toRefrontError } from './errors.js';
import type { Call, Interceptor, Metadata, MethodInfo, Next } from './Interceptor.js';
import { invalidIdempotencyKey, isValidIdempotencyKey } from './idempotencyKey.js';
import type { Logger } from './logger.js';
import { METADATA_CALLER, METADATA_IDEMPOTENCY_KEY, METADATA_TENANT } from './metadataKeys.js';
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
    new Promise<Res>((resolve, reject) => {
      const c = call as Call<unknown>;
      const ctx = contextOf(c, service, logger);
      const out: Reply = { ok: resolve as (res: unknown) => void, fail: reject };
      runInContext(
        ctx,
        begin,
        new Served(ctx, c, next as Next<unknown, unknown>, out, undefined, undefined, 0, undefined),
      );
    });
}

/**
 * Where the outcome of a call being served goes, exactly once: a response, or an error (always a
 * RefrontError when the default interceptors run).
 */
export interface Reply {
  /** The call succeeded with `response`. */
  ok(response: unknown): void;
  /** The call failed with `error`. */
  fail(error: unknown): void;
}

/** Turns what a handler returned into the complete response message (the codec's `fromPartial`). */
export type Complete = (response: unknown) => unknown;

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
    // No `cancel`: the guard aborts the context itself, with a CANCELLED RefrontError as on
    // every lane, never the caller's own abort reason.
  });
  call.context = ctx;
  return ctx;
}

const ABORT = Symbol('abort');
type Abortable = { [ABORT]?: Served };

/**
 * A call being served, as the Dispatcher makes it; it is also where the chain's outcome goes
 * (the Dispatcher's bookkeeping, then the transport's {@link Reply}). When its transport reports
 * cancellation through a callback (`Inbound.onCancel`) or the handle the Dispatcher returns,
 * rather than an AbortSignal, `signal` is made only when something reads it, and the context
 * interceptor sets no deadline timer (such a transport ends the call at its deadline itself), so
 * a call that nobody cancels costs no AbortController, listener or timer.
 * @internal made by the Dispatcher.
 */
export class ServerCall<Req> implements Call<Req>, Reply {
  readonly side = 'server' as const;
  context: RequestContext | undefined = undefined;
  target?: string | undefined;
  [ABORT]: Served | undefined = undefined;
  /** Set by the default chain: aborts the call once when the transport cancels. */
  onTransportCancel: Served | undefined = undefined;
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
    /** Runs first when the call settles (the Dispatcher's in-flight bookkeeping). */
    private readonly settled: (call: ServerCall<Req>) => void,
    /** Where the outcome goes then. */
    private readonly reply: Reply,
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
    this.onTransportCancel?.abort(reason);
  }

  /** The chain answered (called once). */
  ok(response: unknown): void {
    this.settled(this);
    this.reply.ok(response);
  }

  /** The chain failed (called once). */
  fail(error: unknown): void {
    this.settled(this);
    this.reply.fail(error);
  }
}

/**
 * Aborts a call being served (shutdown's grace period ended): its handler's signal aborts and
 * the caller gets `reason` at once. @internal used by the Dispatcher.
 */
export function abortCall(call: Call<unknown>, reason: RefrontError): void {
  const served = (call as Abortable)[ABORT];
  if (served) served.abort(reason);
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
  if (isRefrontError(e)) return e.reason === CoreReason.DRAINING ? dependencyUnavailable(e) : e;
  if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')) return toRefrontError(e);
  ctx.logger.error({ err: e, method: call.method.path }, 'handler failed with an unexpected error');
  return new RefrontError('INTERNAL', CoreReason.INTERNAL, `internal error (trace ${ctx.traceId})`, {
    cause: e,
    details: { metadata: { trace_id: ctx.traceId } },
  });
}

/**
 * A handler rethrew a CORE_DRAINING it got from a service it called: its own caller must not
 * read that as this server's refusal before dispatch (which lets any call be retried), since the
 * handler ran.
 */
function dependencyUnavailable(e: RefrontError): RefrontError {
  return new RefrontError('UNAVAILABLE', CoreReason.DEPENDENCY_UNAVAILABLE, e.message, {
    details: e.details,
    cause: e,
  });
}

function cancelled(reason: unknown): RefrontError {
  return isRefrontError(reason)
    ? reason
    : new RefrontError('CANCELLED', CoreReason.CANCELLED, 'the caller cancelled the call', { cause: reason });
}

/**
 * One call inside the default chain: the guard (deadline, cancel, error mapping) and what runs
 * once it settles (RED metrics, the span's end), as one object per call instead of a promise
 * and closures per layer. The first outcome wins: the handler's answer, its failure, the
 * deadline, a cancel or a shutdown abort; what comes later is dropped.
 */
class Served {
  private finished = false;
  private timer: NodeJS.Timeout | undefined = undefined;
  private signal: AbortSignal | undefined = undefined;
  readonly byTransport: boolean;

  constructor(
    readonly ctx: MutableRequestContext,
    readonly call: Call<unknown>,
    readonly next: Next<unknown, unknown>,
    private readonly out: Reply,
    /** Applied to the handler's answer on the success path, when `next` does not do it. */
    private readonly complete: Complete | undefined,
    private readonly recorder: RedRecorder | undefined,
    private readonly start: number,
    /** The span, when it is recorded. */
    readonly span: Span | undefined,
  ) {
    this.byTransport = call instanceof ServerCall && call.cancelledByTransport;
  }

  /** Starts the rest of the chain; runs inside the request context. */
  run(): void {
    const { ctx, call } = this;
    const remaining = ctx.remainingMs();
    if (remaining <= 0) {
      this.abort(deadlineError());
      return;
    }
    const key = call.metadata[METADATA_IDEMPOTENCY_KEY];
    if (key !== undefined && !isValidIdempotencyKey(key)) {
      this.fail(invalidIdempotencyKey(key));
      return;
    }
    if (this.byTransport) {
      const sc = call as ServerCall<unknown>;
      if (sc.cancelReason !== undefined) {
        this.fail(cancelled(sc.cancelReason));
        return;
      }
      sc.onTransportCancel = this;
    } else {
      const signal = call.signal;
      if (signal?.aborted) {
        this.fail(cancelled(signal.reason));
        return;
      }
      if (signal) {
        this.signal = signal;
        signal.addEventListener('abort', this, { once: true });
      }
      if (remaining !== Number.POSITIVE_INFINITY) this.timer = setTimeout(expire, remaining, this);
    }
    (call as Abortable)[ABORT] = this;
    let pending: unknown;
    try {
      pending = this.span ? withActiveSpan(this.span, () => this.next(call)) : this.next(call);
    } catch (e: unknown) {
      this.rejected(e);
      return;
    }
    Promise.resolve(pending).then(
      (res) => this.resolved(res),
      (e: unknown) => this.rejected(e),
    );
  }

  /** The call's signal aborted (an EventListener object: no closure per call). */
  handleEvent(): void {
    this.abort(cancelled(this.signal?.reason));
  }

  /** Aborts the handler's signal and fails the call with `reason` (deadline, cancel, shutdown). */
  abort(reason: RefrontError): void {
    this.ctx.abort(reason);
    this.fail(reason);
  }

  private resolved(res: unknown): void {
    this.release();
    if (this.finished) return;
    let response = res;
    if (this.complete) {
      try {
        response = this.complete(res);
      } catch (e: unknown) {
        this.fail(mapError(this.ctx, this.call, e));
        return;
      }
    }
    this.finished = true;
    this.settle(undefined);
    this.out.ok(response);
  }

  private rejected(e: unknown): void {
    this.release();
    this.fail(mapError(this.ctx, this.call, e));
  }

  private fail(err: RefrontError): void {
    if (this.finished) return;
    this.finished = true;
    this.settle(err);
    this.out.fail(err);
  }

  private settle(error: RefrontError | undefined): void {
    this.recorder?.observe(error ? error.status : 'OK', (performance.now() - this.start) / 1000);
    if (this.span) endSpan(this.span, error);
  }

  private release(): void {
    if (this.byTransport) (this.call as ServerCall<unknown>).onTransportCancel = undefined;
    else {
      if (this.timer) clearTimeout(this.timer);
      this.timer = undefined;
      this.signal?.removeEventListener('abort', this);
    }
    this.ctx.end();
  }
}

function expire(served: Served): void {
  served.abort(deadlineError());
}

function begin(served: Served): void {
  served.run();
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
 * The default chain as the Dispatcher runs it: serves `call` through `next` (the user's
 * interceptors and the handler), applies `complete` to the answer on the success path when
 * given, and hands the outcome to `reply` once, without a promise or closure per layer.
 * @internal used by the Dispatcher and {@link serverDefaultsInterceptor}.
 */
export type ServeWithDefaults = (
  call: Call<unknown>,
  next: Next<unknown, unknown>,
  complete: Complete | undefined,
  reply: Reply,
) => void;

/** @internal See {@link ServeWithDefaults}. */
export function serveWithDefaults(options: ServerInterceptorOptions): ServeWithDefaults {
  const { service, logger } = options;
  const factsOf = methodFactsCache(options.metrics, 'server', options.system);
  // Calls come in runs of one method: a one-entry cache in front of the per-path map.
  let lastMethod: MethodInfo | undefined;
  let lastFacts: MethodFacts | undefined;
  return (call, next, complete, reply) => {
    let facts = lastFacts;
    if (call.method !== lastMethod || facts === undefined) {
      facts = factsOf(call.method);
      lastMethod = call.method;
      lastFacts = facts;
    }
    const recorder = facts.recorder;
    const start = recorder ? performance.now() : 0;
    const ctx = contextOf(call, service, logger);
    const span = startSpan(facts.spanName, {
      kind: SpanKind.SERVER,
      parent: ctx.parent,
      attributes: facts.attributes,
    });
    ctx.span = span;
    const served = new Served(
      ctx,
      call,
      next,
      reply,
      complete,
      recorder,
      start,
      span.isRecording() ? span : undefined,
    );
    runInContext(ctx, begin, served);
  };
}

/**
 * The default server chain as one interceptor: what {@link serverContextInterceptor},
 * {@link serverSpanInterceptor} and {@link serverMetricsInterceptor} do in that order, with one
 * settlement instead of three (the chain runs on every call of every service). The span and the
 * RED metrics see the outcome the caller gets: a deadline or cancel when the guard ends the call,
 * and INTERNAL for an unexpected throw.
 */
export function serverDefaultsInterceptor(options: ServerInterceptorOptions): Interceptor {
  const serve = serveWithDefaults(options);
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      const reply: Reply = { ok: resolve as (res: unknown) => void, fail: reject };
      serve(call as Call<unknown>, next as Next<unknown, unknown>, undefined, reply);
    });
}

/** The default server chain: context, span and metrics (one fused interceptor, see {@link serverDefaultsInterceptor}). */
export function defaultServerInterceptors(options: ServerInterceptorOptions): Interceptor[] {
  return [serverDefaultsInterceptor(options)];
}
