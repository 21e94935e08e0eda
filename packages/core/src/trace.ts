import { randomFillSync } from 'node:crypto';
import {
  type Context,
  context as otelContext,
  isSpanContextValid,
  ROOT_CONTEXT,
  type Span,
  type SpanContext,
  type SpanKind,
  type Tracer,
  trace,
} from '@opentelemetry/api';

/** Metadata key of the W3C trace context header. */
export const TRACEPARENT = 'traceparent';
/** Metadata key of the W3C trace state header. */
export const TRACESTATE = 'tracestate';

const TRACEPARENT_RE = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(?:-.*)?$/;
const INVALID_TRACE = '00000000000000000000000000000000';
const INVALID_SPAN = '0000000000000000';

/**
 * Parses a W3C `traceparent` header. Returns undefined for anything malformed (a bad header
 * starts a new trace rather than failing the request).
 *
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.traceId;
 */
export function parseTraceparent(header: string | undefined, tracestate?: string): SpanContext | undefined {
  if (header === undefined || header.length < 55) return undefined;
  const m = TRACEPARENT_RE.exec(header.trim().toLowerCase());
  if (!m || m[1] === 'ff' || m[2] === INVALID_TRACE || m[3] === INVALID_SPAN) return undefined;
  if (m[1] === '00' && header.trim().length !== 55) return undefined;
  const sc: SpanContext = { traceId: m[2]!, spanId: m[3]!, traceFlags: Number.parseInt(m[4]!, 16) & 1, isRemote: true };
  return tracestate ? { ...sc, traceState: trace.wrapSpanContext(sc).spanContext().traceState } : sc;
}

/** Formats a span context as a W3C `traceparent` header. */
export function formatTraceparent(sc: SpanContext): string {
  return `00-${sc.traceId}-${sc.spanId}-${sc.traceFlags & 1 ? '01' : '00'}`;
}

const BYTE_HEX: readonly string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const POOL = new Uint8Array(4096);
let poolOffset = POOL.length;

/** Hex of `bytes` random bytes, from a pooled buffer refilled by the CSPRNG (fast on hot paths). */
function randomHex(bytes: number): string {
  if (poolOffset + bytes > POOL.length) {
    randomFillSync(POOL);
    poolOffset = 0;
  }
  let out = '';
  for (let i = 0; i < bytes; i++) out += BYTE_HEX[POOL[poolOffset++]!];
  return out;
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

/** The tracer every Refront package uses (the global OpenTelemetry provider's, or a no-op). */
export function refrontTracer(): Tracer {
  return trace.getTracer('@refront/core');
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
  const parentCtx: Context = options.parent ? trace.setSpanContext(ROOT_CONTEXT, options.parent) : ROOT_CONTEXT;
  const span = refrontTracer().startSpan(
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
