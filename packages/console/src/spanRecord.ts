import type { Attributes, SpanKindName, SpanRecord } from './spans.js';

/** OTLP's `SpanKind`, by number: 0 unspecified … 5 consumer (the API's `SpanKind` + 1). */
const KINDS: readonly SpanKindName[] = [
  'unspecified',
  'internal',
  'server',
  'client',
  'producer',
  'consumer',
];
/** OTLP's (and the API's) `StatusCode`, by number. */
const STATUS = ['unset', 'ok', 'error'] as const;
const NO_PARENT = '0000000000000000';

/** A span's fields as a source gives them, before the console's normalisation. */
export interface SpanParts {
  /** Hex. */
  readonly traceId: string;
  /** Hex. */
  readonly spanId: string;
  /** Hex; empty, absent or all zeros for a root. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  /** OTLP's `SpanKind` number. */
  readonly kind: number;
  /** Start and end, ms since the epoch (see {@link nanosToMs}, {@link hrTimeToMs}). */
  readonly startMs: number;
  readonly endMs: number;
  /** OTLP's `StatusCode` number. */
  readonly statusCode: number;
  readonly statusMessage: string | undefined;
  readonly attributes: Attributes;
  readonly resource: Attributes;
  readonly events: SpanRecord['events'];
  readonly links: SpanRecord['links'];
}

/**
 * The console's one mapping to its span shape, shared by the OTLP/HTTP receiver
 * (`decodeOtlpTraces`) and the in-process exporter (`createConsoleSpanExporter`): a root's
 * parent is undefined, kinds and status codes by name, a negative duration is 0.
 */
export function spanRecord(parts: SpanParts): SpanRecord {
  const parent = parts.parentSpanId;
  return {
    traceId: parts.traceId,
    spanId: parts.spanId,
    parentSpanId: parent !== undefined && parent.length === 16 && parent !== NO_PARENT ? parent : undefined,
    name: parts.name,
    kind: KINDS[parts.kind] ?? 'unspecified',
    startMs: parts.startMs,
    durationMs: Math.max(0, parts.endMs - parts.startMs),
    status: { code: STATUS[parts.statusCode] ?? 'unset', message: parts.statusMessage ?? '' },
    attributes: parts.attributes,
    resource: parts.resource,
    events: parts.events,
    links: parts.links,
  };
}

/** Nanoseconds since the epoch (OTLP's decimal string, or a number) to fractional ms. */
export function nanosToMs(v: unknown): number {
  if (typeof v === 'number') return v / 1e6;
  if (typeof v !== 'string' || !/^\d+$/.test(v)) return 0;
  // Split so that the ms part stays exact: a double holds ns since the epoch only to ~256 ns.
  const whole = v.length > 6 ? Number(v.slice(0, -6)) : 0;
  return whole + Number(v.slice(-6)) / 1e6;
}

/**
 * OpenTelemetry's `HrTime` (`[seconds, nanoseconds]`) to fractional ms: the same double that
 * {@link nanosToMs} gives for its nanoseconds as OTLP writes them.
 */
export function hrTimeToMs(time: readonly [number, number]): number {
  const [seconds, nanos] = time;
  return seconds * 1000 + Math.floor(nanos / 1e6) + (nanos % 1e6) / 1e6;
}
