import { context as otelContext, type Span, SpanKind, trace } from '@opentelemetry/api';
import { currentContext, type RequestContext } from './context.js';
import type { CallOptions, Client, MessageType, ServiceDefinition } from './contracts.js';
import { CoreReason, invalidOption, isRefrontError, RefrontError, toRefrontError } from './errors.js';
import {
  bindChain,
  type Call,
  type Interceptor,
  type Metadata,
  type MethodInfo,
  type Next,
} from './Interceptor.js';
import { invalidIdempotencyKey, isValidIdempotencyKey, outgoingIdempotencyKey } from './idempotencyKey.js';
import {
  DEFAULT_CALL_TIMEOUT_MS,
  METADATA_CALLER,
  METADATA_IDEMPOTENCY_KEY,
  METADATA_TENANT,
} from './metadataKeys.js';
import type { MetricsRegistry } from './metrics.js';
import { endSpan, type MethodFacts, methodFactsCache, type Reply } from './serverInterceptors.js';
import { formatTraceparent, startSpan, TRACEPARENT } from './trace.js';

/** A method as a channel needs it: where to send, and how to encode and decode. */
export interface ClientMethod<Req = unknown, Res = unknown> {
  readonly info: MethodInfo;
  readonly requestType: MessageType<Req>;
  readonly responseType: MessageType<Res>;
}

/**
 * The transport side of a client: sends one unary call and returns the decoded response. The
 * gRPC, mux and in-process transports implement it; {@link createClient} adds types and the
 * interceptor chain on top.
 */
export interface Channel {
  /**
   * Sends `call.request` to `method`.
   * @throws RefrontError for every failure (mapped at the edge), or `call.signal.reason`
   *   unchanged when the caller aborted.
   */
  unary<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>): Promise<Res>;
  /**
   * Optional: sends `call.request` to `method` and reports the outcome to `reply` exactly once,
   * now or later (the decoded response, or what {@link Channel.unary} would reject with); never
   * throws. When a channel has it and the client runs no interceptors but the defaults,
   * {@link createClient} makes one object per call that is the call, the defaults' state and the
   * reply, and settles one promise per call: the caller's.
   */
  send?<Req, Res>(method: ClientMethod<Req, Res>, call: Call<Req>, reply: Reply): void;
}

/** Options of {@link createClient}. */
export interface ClientOptions {
  /** Name of the calling service, sent as the caller identity. */
  readonly caller: string;
  /** Registry for RED metrics of calls made. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** Interceptors run after the defaults, outermost first (a resilience policy, auth…). @default [] */
  readonly interceptors?: readonly Interceptor[];
  /** Run the default interceptors (deadline and context propagation, span, metrics). @default true */
  readonly defaultInterceptors?: boolean;
  /** Time allowed per call when the caller sets none, in ms. @default DEFAULT_CALL_TIMEOUT_MS (10 s) */
  readonly timeoutMs?: number;
  /** `rpc.system` of the client spans. @default 'refront' */
  readonly system?: string;
}

/**
 * Copies the request context into an outgoing call (earlier deadline, caller, tenant) and gives
 * it its idempotency key unless the caller chose one; returns why the call must not start (the
 * caller aborted, the deadline passed), or undefined. Every copy of the default chain calls it
 * once per logical call, before the interceptors and the channel that retry it, so every
 * attempt carries the same key.
 */
function propagate(call: Call<unknown>, ctx: RequestContext | undefined, caller: string): unknown {
  const md = call.metadata;
  md[METADATA_CALLER] ??= caller;
  md[METADATA_IDEMPOTENCY_KEY] ??= outgoingIdempotencyKey(ctx, call.method.path);
  if (ctx) {
    if (ctx.deadline !== undefined && (call.deadline === undefined || ctx.deadline < call.deadline)) {
      call.deadline = ctx.deadline;
    }
    if (ctx.tenant !== undefined) md[METADATA_TENANT] ??= ctx.tenant;
  }
  if (call.signal?.aborted) return call.signal.reason ?? new Error('aborted');
  if (call.deadline !== undefined && call.deadline <= Date.now()) {
    return new RefrontError(
      'DEADLINE_EXCEEDED',
      CoreReason.DEADLINE_EXCEEDED,
      `deadline passed before calling ${call.method.path}`,
    );
  }
  return undefined;
}

/**
 * Propagates the request context into an outgoing call: the earlier of the call's and the
 * context's deadline, the caller identity, the tenant and the idempotency key. Fails fast when the deadline already
 * passed or the caller aborted.
 */
export function clientContextInterceptor(caller: string): Interceptor {
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const ctx = currentContext();
    const refused = propagate(call as Call<unknown>, ctx, caller);
    if (refused !== undefined) return Promise.reject(refused);
    return next(call);
  };
}

/** Starts a CLIENT span per call and sends its `traceparent`. */
export function clientSpanInterceptor(system: string): Interceptor {
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const parent = currentContext()?.spanContext ?? trace.getSpan(otelContext.active())?.spanContext();
    const span = startSpan(call.method.path.slice(1), {
      kind: SpanKind.CLIENT,
      parent,
      attributes: {
        'rpc.system': system,
        'rpc.service': call.method.service,
        'rpc.method': call.method.name,
      },
    });
    call.metadata[TRACEPARENT] = formatTraceparent(span.spanContext());
    if (!span.isRecording()) return next(call);
    return next(call).then(
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

/**
 * The default client chain as one interceptor: what {@link clientContextInterceptor},
 * {@link clientSpanInterceptor} and the client metrics interceptor do in that order, with one
 * settlement instead of three (it runs on every call a service makes).
 */
export function clientDefaultsInterceptor(options: ClientOptions): Interceptor {
  const caller = options.caller;
  const factsOf = methodFactsCache(options.metrics, 'client', options.system ?? 'refront');
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const facts = factsOf(call.method);
    const recorder = facts.recorder;
    const start = recorder ? performance.now() : 0;
    const ctx = currentContext();
    const refused = propagate(call as Call<unknown>, ctx, caller);
    if (refused !== undefined) return Promise.reject(refused);
    const md = call.metadata;
    const span = startSpan(facts.spanName, {
      kind: SpanKind.CLIENT,
      parent: ctx?.spanContext ?? trace.getSpan(otelContext.active())?.spanContext(),
      attributes: facts.attributes,
    });
    md[TRACEPARENT] = formatTraceparent(span.spanContext());
    const recording = span.isRecording();
    if (!recorder && !recording) return next(call);
    return next(call).then(
      (res) => {
        recorder?.observe('OK', (performance.now() - start) / 1000);
        if (recording) endSpan(span, undefined);
        return res;
      },
      (e: unknown) => {
        const err = toRefrontError(e);
        recorder?.observe(isRefrontError(e) ? e.status : 'UNKNOWN', (performance.now() - start) / 1000);
        if (recording) endSpan(span, err);
        throw e;
      },
    );
  };
}

/** The default client chain: context, span and metrics (one fused interceptor, see {@link clientDefaultsInterceptor}). */
export function defaultClientInterceptors(options: ClientOptions): Interceptor[] {
  return [clientDefaultsInterceptor(options)];
}

function noop(): void {}

/**
 * One call made through a {@link Channel} with `send`: the call the channel sees, the state of
 * the default chain (RED recorder, recorded span) and the reply that settles the caller's
 * promise, as one object with no closure.
 */
class OutboundCall implements Call<unknown>, Reply {
  readonly side = 'client' as const;
  context: RequestContext | undefined = undefined;
  readonly peer: string | undefined = undefined;
  target: string | undefined = undefined;
  /** The settlers of the caller's promise (see {@link settled}). */
  resolve: (response: unknown) => void = noop;
  reject: (error: unknown) => void = noop;
  /** Set when the defaults run and record metrics. */
  recorder: MethodFacts['recorder'] = undefined;
  start = 0;
  /** Set when the defaults run and the span is recorded. */
  span: Span | undefined = undefined;

  constructor(
    readonly method: MethodInfo,
    public request: unknown,
    readonly metadata: Metadata,
    public deadline: number | undefined,
    readonly signal: AbortSignal | undefined,
  ) {}

  ok(response: unknown): void {
    const recorder = this.recorder;
    if (recorder) recorder.observe('OK', (performance.now() - this.start) / 1000);
    if (this.span) endSpan(this.span, undefined);
    this.resolve(response);
  }

  fail(error: unknown): void {
    const recorder = this.recorder;
    if (recorder)
      recorder.observe(
        isRefrontError(error) ? error.status : 'UNKNOWN',
        (performance.now() - this.start) / 1000,
      );
    if (this.span) endSpan(this.span, toRefrontError(error));
    this.reject(error);
  }
}

let settling: OutboundCall | undefined;

/** The executor of every {@link settled} promise: hands its settlers to the call being made (no closure per call). */
function adopt(resolve: (response: unknown) => void, reject: (error: unknown) => void): void {
  const call = settling as OutboundCall;
  call.resolve = resolve;
  call.reject = reject;
}

/** The caller's promise of `call`, settled by `call.ok` or `call.fail`. */
function settled(call: OutboundCall): Promise<unknown> {
  settling = call;
  const p = new Promise<unknown>(adopt);
  settling = undefined;
  return p;
}

/**
 * What {@link clientDefaultsInterceptor} does before the call goes out, on an {@link OutboundCall}:
 * propagates the context, starts the span and sends its `traceparent`; returns why the call must
 * not start, or undefined.
 */
function beginDefaults(call: OutboundCall, facts: MethodFacts, caller: string): unknown {
  const recorder = facts.recorder;
  if (recorder) {
    call.recorder = recorder;
    call.start = performance.now();
  }
  const ctx = currentContext();
  const refused = propagate(call, ctx, caller);
  if (refused !== undefined) {
    // Refused before it started: the caller's own doing, not a call made (as in the interceptor).
    call.recorder = undefined;
    return refused;
  }
  const span = startSpan(facts.spanName, {
    kind: SpanKind.CLIENT,
    parent: ctx?.spanContext ?? trace.getSpan(otelContext.active())?.spanContext(),
    attributes: facts.attributes,
  });
  call.metadata[TRACEPARENT] = formatTraceparent(span.spanContext());
  if (span.isRecording()) call.span = span;
  return undefined;
}

/** The metadata a call starts with: the caller's, and the idempotency key it chose. */
function metadataOf(opts: CallOptions | undefined): Metadata {
  if (opts === undefined) return {};
  const md: Metadata = opts.metadata ? { ...opts.metadata } : {};
  if (opts.idempotencyKey !== undefined) md[METADATA_IDEMPOTENCY_KEY] = opts.idempotencyKey;
  return md;
}

/** Static method facts of a contract, keyed by the client's method key. */
export function methodsOf(definition: ServiceDefinition): Map<string, ClientMethod> {
  const out = new Map<string, ClientMethod>();
  for (const [key, def] of Object.entries(definition.methods)) {
    if (def.requestStream || def.responseStream) continue;
    out.set(key, {
      info: {
        service: definition.fullName,
        name: def.name,
        path: `/${definition.fullName}/${def.name}`,
        idempotent:
          def.options.idempotencyLevel === 'IDEMPOTENT' || def.options.idempotencyLevel === 'NO_SIDE_EFFECTS',
      },
      requestType: def.requestType,
      responseType: def.responseType,
    });
  }
  return out;
}

/**
 * Creates a typed client for a contract over any {@link Channel}. Every call gets a deadline
 * (`timeoutMs`, or the request context's when earlier), the caller identity, the tenant, an
 * idempotency key (the caller's `idempotencyKey`, else one derived from the key of the call being
 * served, else a random UUID; the same on every retry), a span and RED metrics.
 *
 * @throws RefrontError INVALID_ARGUMENT for a non-positive `timeoutMs`; a call rejects with
 *   INVALID_ARGUMENT `CORE_INVALID_IDEMPOTENCY_KEY` for a malformed `idempotencyKey`.
 * @example
 * const tickets = createClient(TicketsServiceDefinition, network.channel(), { caller: 'time-tracking' });
 * const ticket = await tickets.getTicket({ id }, { timeoutMs: 2_000 });
 */
export function createClient<S extends ServiceDefinition>(
  definition: S,
  channel: Channel,
  options: ClientOptions,
): Client<S> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  if (!(timeoutMs > 0)) throw invalidOption(`timeoutMs must be > 0, got ${timeoutMs}`);
  const defaults = options.defaultInterceptors ?? true;
  const extra = options.interceptors ?? [];
  const client: Record<string, (request: unknown, opts?: CallOptions) => Promise<unknown>> = {};
  if (extra.length === 0 && typeof channel.send === 'function') {
    // The channel takes a reply: one object per call, one promise (see Channel.send).
    const send = channel.send.bind(channel) as NonNullable<Channel['send']>;
    const caller = options.caller;
    const factsOf = defaults
      ? methodFactsCache(options.metrics, 'client', options.system ?? 'refront')
      : undefined;
    for (const [key, method] of methodsOf(definition)) {
      const facts = factsOf?.(method.info);
      client[key] = (request, opts) => {
        if (opts?.idempotencyKey !== undefined && !isValidIdempotencyKey(opts.idempotencyKey))
          return Promise.reject(invalidIdempotencyKey(opts.idempotencyKey));
        const call = new OutboundCall(
          method.info,
          method.requestType.fromPartial((request ?? {}) as never),
          metadataOf(opts),
          Date.now() + (opts?.timeoutMs ?? timeoutMs),
          opts?.signal,
        );
        if (facts) {
          const refused = beginDefaults(call, facts, caller);
          if (refused !== undefined) return Promise.reject(refused);
        }
        const p = settled(call);
        try {
          send(method, call, call);
        } catch (e: unknown) {
          call.fail(e);
        }
        return p;
      };
    }
    return client as Client<S>;
  }
  const chain = [...(defaults ? defaultClientInterceptors(options) : []), ...extra];
  for (const [key, method] of methodsOf(definition)) {
    const invoke = bindChain(chain, (call: Call<unknown>) => channel.unary(method, call));
    client[key] = (request, opts) => {
      if (opts?.idempotencyKey !== undefined && !isValidIdempotencyKey(opts.idempotencyKey))
        return Promise.reject(invalidIdempotencyKey(opts.idempotencyKey));
      const call: Call<unknown> = {
        side: 'client',
        method: method.info,
        request: method.requestType.fromPartial((request ?? {}) as never),
        metadata: metadataOf(opts),
        deadline: Date.now() + (opts?.timeoutMs ?? timeoutMs),
        signal: opts?.signal,
        context: undefined,
        peer: undefined,
      };
      return invoke(call);
    };
  }
  return client as Client<S>;
}
