/** An attribute value as OTLP carries it, flattened to JSON. */
export type AttributeValue = string | number | boolean | readonly AttributeValue[] | null;

/** Attributes by key. */
export type Attributes = Readonly<Record<string, AttributeValue>>;

/** The kind of a span, as OpenTelemetry names it. */
export type SpanKindName = 'unspecified' | 'internal' | 'server' | 'client' | 'producer' | 'consumer';

/** One span as the console keeps it: OTLP's fields, ids in hex, times in ms. */
export interface SpanRecord {
  readonly traceId: string;
  readonly spanId: string;
  /** The parent's span id; undefined for a root. */
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: SpanKindName;
  /** Start, ms since the epoch (fractional). */
  readonly startMs: number;
  /** Duration in ms (fractional). */
  readonly durationMs: number;
  /** `unset`, `ok` or `error`, with the status message. */
  readonly status: { readonly code: 'unset' | 'ok' | 'error'; readonly message: string };
  readonly attributes: Attributes;
  /** The resource's attributes (`service.name`, `service.version`…). */
  readonly resource: Attributes;
  /** Span events (logs, exceptions), in time order. */
  readonly events: readonly {
    readonly name: string;
    readonly timeMs: number;
    readonly attributes: Attributes;
  }[];
  /** Linked spans (a consumer links the producer). */
  readonly links: readonly {
    readonly traceId: string;
    readonly spanId: string;
    readonly attributes: Attributes;
  }[];
}
