import type { Span } from '@opentelemetry/api';
import { SpanKind } from '@opentelemetry/api';
import { createRequestContext, type MutableRequestContext, runInContext } from './context.js';
import { CoreErrors, CoreReason, toRefrontError } from './coreErrors.js';
import { isRefrontError, type RefrontError } from './errors.js';
import type { Call, Interceptor, MethodInfo, Next } from './Interceptor.js';
import { invalidIdempotencyKey, isValidIdempotencyKey } from './idempotencyKey.js';
import { endSpan, type MethodFacts, methodFactsCache } from './instrumentation.js';
import type { Logger } from './logger.js';
import { METADATA_CALLER, METADATA_IDEMPOTENCY_KEY, METADATA_TENANT } from './metadataKeys.js';
import type { MetricsRegistry, RedRecorder } from './metrics.js';
import type { Reply } from './Reply.js';
import { parseTraceparent, startSpan, TRACEPARENT, withActiveSpan } from './trace.js';

/** Options of the default server chain. */
export interface ServerDefaultsOptions {
  /** The serving service's name. */
  readonly service: string;
  /** The service logger. */
  readonly logger: Logger;
  /** Registry for RED metrics; none means no metrics. */
  readonly metrics?: MetricsRegistry | undefined;
  /** `rpc.system` of the spans (`grpc`, `refront_mux`, `refront_inproc`). */
  readonly system: string;
}

/** Turns what a handler returned into the complete response message (the codec's `fromPartial`). */
export type Complete = (response: unknown) => unknown;

/** What the default chain aborts once when the transport cancels a call. @internal */
export interface CancelTarget {
  abort(reason: RefrontError): void;
}

/**
 * A call whose transport reports cancellation itself (the Dispatcher's `ServerCall` when the
 * transport passes `onCancel` or keeps the call's handle): the default chain reads its reason and
 * registers to be aborted instead of running a deadline timer and a signal listener.
 * @internal
 */
export interface TransportCancellable {
  readonly cancelledByTransport: boolean;
  readonly cancelReason: RefrontError | undefined;
  onTransportCancel: CancelTarget | undefined;
}

function contextOf(call: Call<unknown>, service: string, logger: Logger): MutableRequestContext {
  const md = call.metadata;
  const ctx = createRequestContext({
    service,
    logger,
    method: call.method.path,
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

/** Where the default chain keeps its per-call object on the call, for {@link abortCall}. @internal */
export const ABORT = Symbol('abort');
type Abortable = { [ABORT]?: CancelTarget };

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
  return CoreErrors.DEADLINE_EXCEEDED('before the handler finished');
}

function mapError(ctx: MutableRequestContext, call: Call<unknown>, e: unknown): RefrontError {
  if (isRefrontError(e)) return e.reason === CoreReason.DRAINING ? dependencyUnavailable(e) : e;
  if (e instanceof Error && (e.name === 'AbortError' || e.name === 'TimeoutError')) return toRefrontError(e);
  ctx.logger.error({ err: e, method: call.method.path }, 'handler failed with an unexpected error');
  return CoreErrors.INTERNAL.with(
    { cause: e, details: { metadata: { trace_id: ctx.traceId } } },
    `trace ${ctx.traceId}`,
  );
}

/**
 * A handler rethrew a CORE_DRAINING it got from a service it called: its own caller must not
 * read that as this server's refusal before dispatch (which lets any call be retried), since the
 * handler ran.
 */
function dependencyUnavailable(e: RefrontError): RefrontError {
  return CoreErrors.DEPENDENCY_UNAVAILABLE.with({ details: e.details, cause: e }, e.message);
}

function cancelled(reason: unknown): RefrontError {
  return isRefrontError(reason) ? reason : CoreErrors.CANCELLED.with({ cause: reason });
}

/**
 * One call inside the default chain: the guard (deadline, cancel, error mapping) and what runs
 * once it settles (RED metrics, the span's end), as one object per call instead of a promise
 * and closures per layer. The first outcome wins: the handler's answer, its failure, the
 * deadline, a cancel or a shutdown abort; what comes later is dropped.
 */
class Served implements CancelTarget {
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
    this.byTransport = (call as Partial<TransportCancellable>).cancelledByTransport === true;
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
      const sc = call as unknown as TransportCancellable;
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
    if (this.byTransport) (this.call as unknown as TransportCancellable).onTransportCancel = undefined;
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
export function serveWithDefaults(options: ServerDefaultsOptions): ServeWithDefaults {
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
    if (ctx.tenant !== undefined && span.isRecording()) span.setAttribute('refront.tenant', ctx.tenant);
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
 * The default server chain as an interceptor, for a server built with `defaultInterceptors:
 * false` that wants it at another place in its chain: a thin wrapper over the Dispatcher's
 * {@link serveWithDefaults}. It makes the request context (deadline, caller, tenant, trace
 * parent, cancellation) and runs the rest of the chain inside it; enforces the deadline (the
 * handler's signal aborts and the caller gets DEADLINE_EXCEEDED at once); starts a SERVER span
 * child of the caller's `traceparent`; observes RED metrics
 * (`refront_rpc_server_duration_seconds{rpc_service,rpc_method,status}`); and turns an
 * unexpected throw into INTERNAL, logged with its trace id. The span and the metrics see the
 * outcome the caller gets.
 */
export function serverDefaultsInterceptor(options: ServerDefaultsOptions): Interceptor {
  const serve = serveWithDefaults(options);
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> =>
    new Promise<Res>((resolve, reject) => {
      const reply: Reply = { ok: resolve as (res: unknown) => void, fail: reject };
      serve(call as Call<unknown>, next as Next<unknown, unknown>, undefined, reply);
    });
}
