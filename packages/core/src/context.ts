import { AsyncLocalStorage } from 'node:async_hooks';
import { context as otelContext, type Span, type SpanContext, trace } from '@opentelemetry/api';
// pino's Logger, as logger.ts names it: importing it from there would tie the two files in a circle.
import type { Logger } from 'pino';
import { registerCoreCopy, THIS_COPY } from './copies.js';
import { METADATA_IDEMPOTENCY_KEY } from './metadataKeys.js';
import { entryRootContext } from './trace.js';

/** The active OpenTelemetry span's context when it is a valid one (an SDK and an instrumentation run). */
function activeSpanContext(): SpanContext | undefined {
  const sc = trace.getSpan(otelContext.active())?.spanContext();
  return sc && trace.isSpanContextValid(sc) ? sc : undefined;
}

/**
 * What a handler knows about the request it serves: who calls, for which tenant, until when,
 * in which trace. It follows the request through awaits, timers and event handlers.
 */
export interface RequestContext {
  /** The service handling the request. */
  readonly service: string;
  /** Absolute deadline in ms since the epoch, or undefined for none. */
  readonly deadline: number | undefined;
  /** Aborts at the deadline, when the caller cancels, or when the shutdown grace period ends. */
  readonly signal: AbortSignal;
  /** Identity of the caller (a service name or an authenticated principal). */
  readonly caller: string | undefined;
  /** Tenant the request acts for. */
  readonly tenant: string | undefined;
  /** Trace id of the current span (32 hex chars). */
  readonly traceId: string;
  /** Id of the current span (16 hex chars). */
  readonly spanId: string;
  /** The current span's context, to parent new spans and to propagate. */
  readonly spanContext: SpanContext | undefined;
  /** Inbound metadata (lower-case keys), as received. */
  readonly metadata: Readonly<Record<string, string>>;
  /**
   * The idempotency key of the call being served (`x-refront-idempotency-key`), or undefined
   * when it carries none. The server's defaults refuse a malformed one before the handler runs;
   * calls the handler makes send keys derived from it.
   */
  readonly idempotencyKey: string | undefined;
  /**
   * The service logger; every line carries trace_id, span_id and tenant, and `method` (the
   * method's path) when the context serves a call.
   */
  readonly logger: Logger;
  /** Milliseconds left before the deadline (Infinity without one, never below 0). */
  remainingMs(): number;
}

/** Fields to build a {@link RequestContext} from. */
export interface RequestContextInit {
  readonly service: string;
  readonly logger: Logger;
  /** The path of the method served (`pkg.Service/Method`): the context's logger adds it as `method`. */
  readonly method?: string | undefined;
  readonly deadline?: number | undefined;
  readonly caller?: string | undefined;
  readonly tenant?: string | undefined;
  readonly metadata?: Readonly<Record<string, string>>;
  /** The remote parent span (from an inbound traceparent). */
  readonly parent?: SpanContext | undefined;
  /** A signal that cancels the request from outside (the transport's cancel). */
  readonly cancel?: AbortSignal | undefined;
}

const EMPTY: Readonly<Record<string, string>> = Object.freeze({});

/**
 * The mutable implementation behind {@link RequestContext}. Its AbortController is created only
 * when a handler reads `signal`, so calls that never look at it pay nothing for it.
 * @internal exported for transports through `createRequestContext`.
 */
export class MutableRequestContext implements RequestContext {
  readonly service: string;
  /** The logger the context was made with; `logger` is its child with `method`. */
  private readonly serviceLogger: Logger;
  private readonly method: string | undefined;
  private methodLogger: Logger | undefined;
  readonly deadline: number | undefined;
  readonly caller: string | undefined;
  readonly tenant: string | undefined;
  readonly metadata: Readonly<Record<string, string>>;
  /** The remote parent, until a span replaces it. */
  readonly parent: SpanContext | undefined;
  span: Span | undefined;
  /** The context's own root when it has neither span nor parent (see `spanContext`). */
  private root: SpanContext | undefined;
  private controller: AbortController | undefined;
  private abortReason: unknown;
  private readonly cancel: AbortSignal | undefined;
  private cancelListener: (() => void) | undefined;

  constructor(init: RequestContextInit) {
    this.service = init.service;
    this.serviceLogger = init.logger;
    this.method = init.method;
    this.deadline = init.deadline;
    this.caller = init.caller;
    this.tenant = init.tenant;
    this.metadata = init.metadata ?? EMPTY;
    this.parent = init.parent;
    this.cancel = init.cancel;
  }

  /** Made on first use: a call whose handler never logs pays nothing for it. */
  get logger(): Logger {
    if (this.method === undefined) return this.serviceLogger;
    this.methodLogger ??= this.serviceLogger.child({ method: this.method });
    return this.methodLogger;
  }

  /**
   * The span's context; before a span is set, the remote parent; without either (a context an
   * entry point of the application made: an HTTP handler, a job) the active OpenTelemetry span
   * (an HTTP instrumentation's server span), else a root of its own made once. So every call,
   * event and log line of one such context shares one trace id, never an empty one.
   */
  get spanContext(): SpanContext | undefined {
    if (this.span) return this.span.spanContext();
    if (this.parent) return this.parent;
    // The SDK's sampler decides, else sampled (see entryRootContext).
    this.root ??= activeSpanContext() ?? entryRootContext();
    return this.root;
  }

  get idempotencyKey(): string | undefined {
    return this.metadata[METADATA_IDEMPOTENCY_KEY];
  }

  get traceId(): string {
    return this.spanContext?.traceId ?? '';
  }

  get spanId(): string {
    return this.spanContext?.spanId ?? '';
  }

  get signal(): AbortSignal {
    if (this.controller) return this.controller.signal;
    const controller = new AbortController();
    this.controller = controller;
    if (this.abortReason !== undefined) {
      controller.abort(this.abortReason);
    } else if (this.cancel) {
      if (this.cancel.aborted) controller.abort(this.cancel.reason);
      else {
        const cancel = this.cancel;
        this.cancelListener = () => controller.abort(cancel.reason);
        cancel.addEventListener('abort', this.cancelListener, { once: true });
      }
    }
    return controller.signal;
  }

  /** Whether the request has been aborted (deadline, cancel or shutdown). */
  get aborted(): boolean {
    return this.abortReason !== undefined || this.cancel?.aborted === true;
  }

  remainingMs(): number {
    return this.deadline === undefined ? Number.POSITIVE_INFINITY : Math.max(0, this.deadline - Date.now());
  }

  /** Aborts the request's signal with `reason` (first reason wins). */
  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** Releases the listener on the transport's cancel signal once the request is over. */
  end(): void {
    if (this.cancelListener) this.cancel?.removeEventListener('abort', this.cancelListener);
    this.cancelListener = undefined;
  }
}

const storage = new AsyncLocalStorage<RequestContext>();

// The one thing core does at import: a second copy (ESM beside CommonJS, or two versions) has a
// storage of its own, so contexts would silently not cross between them; registering makes the
// second copy warn (copies.ts).
registerCoreCopy(THIS_COPY);

/**
 * The context of the request being served, or undefined outside one.
 *
 * @example
 * const ctx = currentContext();
 * ctx?.logger.info({ ticketId }, 'ticket created');
 */
export function currentContext(): RequestContext | undefined {
  return storage.getStore();
}

/** Runs `fn` with `ctx` as the current request context (for transports and tests). */
export function runWithContext<T>(ctx: RequestContext, fn: () => T): T {
  return storage.run(ctx, fn);
}

/**
 * Runs `fn(arg)` with `ctx` as the current request context: {@link runWithContext} for the
 * per-call paths, with no closure per call. @internal
 */
export function runInContext<A>(ctx: RequestContext, fn: (arg: A) => void, arg: A): void {
  storage.run(ctx, fn, arg);
}

/**
 * Builds a request context (for transports, background jobs and tests).
 *
 * @example
 * const ctx = createRequestContext({ service: 'billing', logger, deadline: Date.now() + 5_000 });
 * await runWithContext(ctx, () => closePeriod());
 */
export function createRequestContext(init: RequestContextInit): MutableRequestContext {
  return new MutableRequestContext(init);
}
