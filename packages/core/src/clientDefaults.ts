import { context as otelContext, type Span, SpanKind, trace } from '@opentelemetry/api';
import { currentContext, type RequestContext } from './context.js';
import { CoreErrors, toRefrontError } from './coreErrors.js';
import { isRefrontError } from './errors.js';
import type { Call, Interceptor, Next } from './Interceptor.js';
import { outgoingIdempotencyKey } from './idempotencyKey.js';
import { endSpan, type MethodFacts, methodFactsCache } from './instrumentation.js';
import { METADATA_CALLER, METADATA_IDEMPOTENCY_KEY, METADATA_TENANT } from './metadataKeys.js';
import type { MetricsRegistry } from './metrics.js';
import { formatTraceparent, startSpan, TRACEPARENT } from './trace.js';

/** Options of the default client chain. */
export interface ClientDefaultsOptions {
  /** Name of the calling service, sent as the caller identity. */
  readonly caller: string;
  /** Registry for RED metrics of calls made. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** `rpc.system` of the client spans. @default 'refront' */
  readonly system?: string;
}

/**
 * Copies the request context into an outgoing call (earlier deadline, caller, tenant) and gives
 * it its idempotency key unless the caller chose one; returns why the call must not start (the
 * caller aborted, the deadline passed), or undefined. Runs once per logical call, before the
 * interceptors and the channel that retry it, so every attempt carries the same key.
 */
function propagate(
  call: Call<unknown>,
  ctx: RequestContext | undefined,
  caller: string,
  now: number,
): unknown {
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
  if (call.deadline !== undefined && call.deadline <= now) {
    return CoreErrors.DEADLINE_EXCEEDED(`before calling ${call.method.path}`);
  }
  return undefined;
}

/**
 * The default client chain's state for one call, and the one implementation of what it does:
 * {@link ClientDefaults.begin} before the call goes out (context propagation, CLIENT span,
 * `traceparent`), {@link ClientDefaults.end} once with its outcome (RED metrics, the span's
 * end). The `send` path of `createClient` makes its per-call object a subclass
 * (`OutboundCall`); {@link clientDefaultsInterceptor} makes one per call around `next`.
 * @internal
 */
export class ClientDefaults {
  /** Set when the defaults record metrics. */
  recorder: MethodFacts['recorder'] = undefined;
  start = 0;
  /** Set when the span is recorded. */
  span: Span | undefined = undefined;

  /**
   * Propagates the context into `call`, starts the span and sends its `traceparent`; returns
   * why the call must not start (the caller aborted, the deadline passed), or undefined. A call
   * refused here is the caller's own doing, not a call made: it records nothing. `now` is
   * `Date.now()`, when the caller just read it (to set the call's deadline).
   */
  begin(call: Call<unknown>, facts: MethodFacts, caller: string, now = Date.now()): unknown {
    const ctx = currentContext();
    const refused = propagate(call, ctx, caller, now);
    if (refused !== undefined) return refused;
    const recorder = facts.recorder;
    if (recorder) {
      this.recorder = recorder;
      this.start = performance.now();
    }
    const span = startSpan(facts.spanName, {
      kind: SpanKind.CLIENT,
      parent: ctx?.spanContext ?? trace.getSpan(otelContext.active())?.spanContext(),
      attributes: facts.attributes,
    });
    call.metadata[TRACEPARENT] = formatTraceparent(span.spanContext());
    if (span.isRecording()) this.span = span;
    return undefined;
  }

  /** Whether {@link ClientDefaults.end} has anything to record. */
  get records(): boolean {
    return this.recorder !== undefined || this.span !== undefined;
  }

  /** Records the outcome: `error` is what the call rejected with, or undefined on success. */
  end(error: unknown): void {
    const recorder = this.recorder;
    if (error === undefined) {
      if (recorder) recorder.observe('OK', (performance.now() - this.start) / 1000);
      if (this.span) endSpan(this.span, undefined);
      return;
    }
    if (recorder)
      recorder.observe(
        isRefrontError(error) ? error.status : 'UNKNOWN',
        (performance.now() - this.start) / 1000,
      );
    if (this.span) endSpan(this.span, toRefrontError(error));
  }
}

/**
 * The default client chain as an interceptor, for a client built with `defaultInterceptors:
 * false` that wants it at another place in its chain (and what `createClient` runs in front of
 * interceptors of the user's): a thin wrapper over {@link ClientDefaults}. Every call gets the
 * earlier of its own and the request context's deadline, the caller identity, the tenant, an
 * idempotency key (the same on every retry below it), a CLIENT span with its `traceparent`, and
 * RED metrics (`refront_rpc_client_duration_seconds`). Fails fast when the deadline already
 * passed or the caller aborted.
 */
export function clientDefaultsInterceptor(options: ClientDefaultsOptions): Interceptor {
  const caller = options.caller;
  const factsOf = methodFactsCache(options.metrics, 'client', options.system ?? 'refront');
  return <Req, Res>(call: Call<Req>, next: Next<Req, Res>): Promise<Res> => {
    const defaults = new ClientDefaults();
    const refused = defaults.begin(call as Call<unknown>, factsOf(call.method), caller);
    if (refused !== undefined) return Promise.reject(refused);
    if (!defaults.records) return next(call);
    return next(call).then(
      (res) => {
        defaults.end(undefined);
        return res;
      },
      (e: unknown) => {
        defaults.end(e ?? new Error('rejected without a reason'));
        throw e;
      },
    );
  };
}
