import { randomFillSync } from 'node:crypto';
import {
  type Context,
  isSpanContextValid,
  context as otelContext,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanKind,
  TraceFlags,
  type Tracer,
  type TracerProvider,
  trace,
} from '@opentelemetry/api';

/** Metadata key of the W3C trace context header. */
export const TRACEPARENT = 'traceparent';
/** Metadata key of the W3C trace state header. */
export const TRACESTATE = 'tracestate';

const INVALID_TRACE = '00000000000000000000000000000000';
const INVALID_SPAN = '0000000000000000';

/** HEX_VALUE[c] is the value of the lower-case hex digit with char code c, else 255. */
const HEX_VALUE = new Uint8Array(128).fill(255);
for (let i = 0; i < 16; i++) HEX_VALUE['0123456789abcdef'.charCodeAt(i)] = i;

function isLowerHex(s: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = s.charCodeAt(i);
    if (c > 127 || HEX_VALUE[c] === 255) return false;
  }
  return true;
}

/**
 * Parses a W3C `traceparent` header (version 00; later versions by their first four fields).
 * Returns undefined for anything malformed: a bad header starts a new trace rather than failing
 * the request.
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.traceId;
 */
export function parseTraceparent(header: string | undefined): SpanContext | undefined {
  if (header === undefined || header.length < 55) return undefined;
  if (header === lastFormatted.header) {
    const { traceId, spanId, traceFlags } = lastFormatted;
    return { traceId, spanId, traceFlags, isRemote: true };
  }
  const h = header.length === 55 ? header : header.trim().toLowerCase();
  if (h.length < 55 || h[2] !== '-' || h[35] !== '-' || h[52] !== '-') return undefined;
  if (!isLowerHex(h, 0, 2) || !isLowerHex(h, 3, 35) || !isLowerHex(h, 36, 52) || !isLowerHex(h, 53, 55))
    return undefined;
  // Version ff is invalid; version 00 has exactly four fields; later versions may add fields.
  const v0 = h.charCodeAt(0);
  const v1 = h.charCodeAt(1);
  if (v0 === 102 && v1 === 102) return undefined;
  if (v0 === 48 && v1 === 48 ? h.length !== 55 : h.length > 55 && h[55] !== '-') return undefined;
  const traceId = h.slice(3, 35);
  const spanId = h.slice(36, 52);
  if (traceId === INVALID_TRACE || spanId === INVALID_SPAN) return undefined;
  const flags = (HEX_VALUE[h.charCodeAt(53)] as number) * 16 + (HEX_VALUE[h.charCodeAt(54)] as number);
  return { traceId, spanId, traceFlags: flags & 1, isRemote: true };
}

/**
 * The header formatted last and its fields: in one process (the in-process transport) the server
 * parses exactly what the client just formatted, so the parse is a string comparison. Only the
 * fields are kept (no object per format): a network transport never parses its own header.
 */
const lastFormatted = { header: '', traceId: '', spanId: '', traceFlags: 0 };

/** Formats a span context as a W3C `traceparent` header. */
export function formatTraceparent(sc: SpanContext): string {
  const traceFlags = sc.traceFlags & 1;
  const header = `00-${sc.traceId}-${sc.spanId}-${traceFlags ? '01' : '00'}`;
  lastFormatted.header = header;
  lastFormatted.traceId = sc.traceId;
  lastFormatted.spanId = sc.spanId;
  lastFormatted.traceFlags = traceFlags;
  return header;
}

const POOL = new Uint8Array(4096);
let poolHex = '';
let poolOffset = POOL.length;

/**
 * Hex of `bytes` random bytes, cut from a pooled buffer the CSPRNG refills, hexed once per refill
 * (a slice per id instead of a string concatenation per byte: ids are made on every call).
 */
function randomHex(bytes: number): string {
  if (poolOffset + bytes > POOL.length) {
    randomFillSync(POOL);
    poolHex = Buffer.from(POOL.buffer, POOL.byteOffset, POOL.byteLength).toString('hex');
    poolOffset = 0;
  }
  const at = poolOffset * 2;
  poolOffset += bytes;
  return poolHex.slice(at, at + bytes * 2);
}

/** A random 16-byte trace id in hex (never all zeros). */
export function randomTraceId(): string {
  const id = randomHex(16);
  return id === INVALID_TRACE ? randomTraceId() : id;
}

/** A random 8-byte span id in hex (never all zeros). */
export function randomSpanId(): string {
  const id = randomHex(8);
  return id === INVALID_SPAN ? randomSpanId() : id;
}

let tracer: Tracer | undefined;
let tracerOf: TracerProvider | undefined;
let noopProvider: unknown;

/**
 * The tracer of the registered OpenTelemetry SDK, or undefined when none is (the API would hand
 * out no-op spans): one provider lookup per span. Taken again when another provider is registered
 * (tracing set up again after a shutdown), where a kept API proxy would go on handing spans to the
 * provider that was shut down. Internal.
 */
export function sdkTracer(): Tracer | undefined {
  const global = trace.getTracerProvider();
  const provider = global instanceof ProxyTracerProvider ? global.getDelegate() : global;
  noopProvider ??= new ProxyTracerProvider().getDelegate();
  if (provider === noopProvider) return undefined;
  if (provider !== tracerOf || tracer === undefined) {
    tracer = provider.getTracer('@refront/core');
    tracerOf = provider;
  }
  return tracer;
}

/** Whether no OpenTelemetry SDK is registered (the API would hand out no-op spans). Internal. */
export function tracingIsNoop(): boolean {
  return sdkTracer() === undefined;
}

/**
 * The root of an entry point's trace (a context made without a parent or an active span: an HTTP
 * handler, a job). With an SDK registered, its sampler decides, so a ratio sampler thins entry
 * points like any root: the probe span it starts for the decision is never ended, so never
 * exported. Without one, a sampled root of its own: flags 0 would make a parent-based sampler in
 * the processes it calls drop the whole trace. Internal.
 */
export function entryRootContext(): SpanContext {
  const sdk = sdkTracer();
  if (sdk) {
    const sc = sdk.startSpan('refront.entry', { root: true }).spanContext();
    if (isSpanContextValid(sc))
      return { traceId: sc.traceId, spanId: sc.spanId, traceFlags: sc.traceFlags, isRemote: false };
  }
  return {
    traceId: randomTraceId(),
    spanId: randomSpanId(),
    traceFlags: TraceFlags.SAMPLED,
    isRemote: false,
  };
}

/** Options of {@link startSpan}. */
export interface StartSpanOptions {
  /** Server, client, producer, consumer or internal. */
  readonly kind: SpanKind;
  /** The parent, local or remote; a new trace starts without one. */
  readonly parent?: SpanContext | undefined;
  /** Span links (a consumer's span links the producer's). */
  readonly links?: readonly SpanContext[];
  /** Attributes set only when the span is recorded. */
  readonly attributes?: Readonly<Record<string, string | number | boolean>>;
}

/**
 * Starts a span on the global tracer. Without an OpenTelemetry SDK the API hands out
 * non-recording spans that reuse the parent's ids; this gives each span its own ids anyway,
 * so trace ids still cross every hop and appear in logs with no SDK installed.
 */
export function startSpan(name: string, options: StartSpanOptions): Span {
  const sdk = sdkTracer();
  if (sdk === undefined) {
    return trace.wrapSpanContext({
      traceId: options.parent?.traceId ?? randomTraceId(),
      spanId: randomSpanId(),
      traceFlags: options.parent?.traceFlags ?? 0,
      isRemote: false,
    });
  }
  const parentCtx: Context = options.parent
    ? trace.setSpanContext(ROOT_CONTEXT, options.parent)
    : ROOT_CONTEXT;
  const span = sdk.startSpan(
    name,
    {
      kind: options.kind,
      ...(options.attributes ? { attributes: options.attributes } : {}),
      ...(options.links ? { links: options.links.map((context) => ({ context })) } : {}),
    },
    parentCtx,
  );
  const sc = span.spanContext();
  if (span.isRecording() || (isSpanContextValid(sc) && sc.spanId !== options.parent?.spanId)) return span;
  return trace.wrapSpanContext({
    traceId: options.parent?.traceId ?? randomTraceId(),
    spanId: randomSpanId(),
    traceFlags: options.parent?.traceFlags ?? 0,
    isRemote: false,
  });
}

/** Runs `fn` with `span` active in the OpenTelemetry context, so user spans nest under it. */
export function withActiveSpan<T>(span: Span, fn: () => T): T {
  return otelContext.with(trace.setSpan(otelContext.active(), span), fn);
}
