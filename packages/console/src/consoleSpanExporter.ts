import type { ReadableSpan, SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConsoleErrors } from './consoleErrors.js';
import { hrTimeToMs, spanRecord } from './spanRecord.js';
import type { Attributes, AttributeValue, SpanRecord } from './spans.js';
import type { TraceStore } from './TraceStore.js';

/** Options of {@link createConsoleSpanExporter}. */
export interface ConsoleSpanExporterOptions {
  /** The store the spans go to: the in-process console's (`console.store`). */
  readonly store: TraceStore;
}

type ExportCallback = Parameters<SpanExporter['export']>[1];

/**
 * An OpenTelemetry `SpanExporter` that hands finished spans to a console in the same process,
 * without the OTLP/HTTP round trip: each span is mapped to the store's shape by the mapping the
 * OTLP receiver uses, so a span looks the same whichever way it came. Put it behind the SDK's
 * `BatchSpanProcessor` (`setupTracing({ extraExporters: [exporter] })` does), which keeps the
 * work off the request path and bounds the queue; the store bounds what it keeps.
 *
 * An export that the store refuses, or that comes after `shutdown()`, ends FAILED with
 * `CONSOLE_SPANS_NOT_STORED` (the SDK reports it to its error handler); it never throws.
 *
 * @example
 * const console_ = createConsole({ enabled: true, development: true });
 * await setupTracing({
 *   serviceName: 'monolith',
 *   extraExporters: [createConsoleSpanExporter({ store: console_.store })],
 * });
 */
export function createConsoleSpanExporter(options: ConsoleSpanExporterOptions): SpanExporter {
  const { store } = options;
  let shutDown = false;
  const resources = new WeakMap<object, Attributes>();
  const resourceOf = (span: ReadableSpan): Attributes => {
    let attributes = resources.get(span.resource);
    if (attributes === undefined) {
      attributes = attributesOf(span.resource.attributes);
      resources.set(span.resource, attributes);
    }
    return attributes;
  };
  return {
    export(spans: ReadableSpan[], done: ExportCallback): void {
      if (shutDown) {
        done({ code: 1, error: ConsoleErrors.SPANS_NOT_STORED('the exporter is shut down') });
        return;
      }
      try {
        store.add(spans.map((s) => toSpanRecord(s, resourceOf(s))));
      } catch (error) {
        done({
          code: 1,
          error: ConsoleErrors.SPANS_NOT_STORED.with(
            { cause: error },
            error instanceof Error ? error.message : String(error),
          ),
        });
        return;
      }
      done({ code: 0 });
    },
    async shutdown(): Promise<void> {
      shutDown = true;
    },
    async forceFlush(): Promise<void> {},
  };
}

/** A finished SDK span in the store's shape. */
function toSpanRecord(span: ReadableSpan, resource: Attributes): SpanRecord {
  const context = span.spanContext();
  return spanRecord({
    traceId: context.traceId,
    spanId: context.spanId,
    parentSpanId: span.parentSpanContext?.spanId,
    name: span.name,
    // The API's SpanKind has no "unspecified": OTLP's is the API's + 1.
    kind: span.kind + 1,
    startMs: hrTimeToMs(span.startTime),
    endMs: hrTimeToMs(span.endTime),
    statusCode: span.status.code,
    statusMessage: span.status.message,
    attributes: attributesOf(span.attributes),
    resource,
    events: span.events.map((e) => ({
      name: e.name,
      timeMs: hrTimeToMs(e.time),
      attributes: attributesOf(e.attributes),
    })),
    links: span.links.map((l) => ({
      traceId: l.context.traceId,
      spanId: l.context.spanId,
      attributes: attributesOf(l.attributes),
    })),
  });
}

/** The SDK's attributes as OTLP carries them and the receiver reads them back. */
function attributesOf(attributes: Readonly<Record<string, unknown>> | undefined): Attributes {
  const out: Record<string, AttributeValue> = {};
  if (attributes === undefined) return out;
  for (const key of Object.keys(attributes)) out[key] = attributeValue(attributes[key]);
  return out;
}

function attributeValue(v: unknown): AttributeValue {
  switch (typeof v) {
    case 'string':
    case 'number':
    case 'boolean':
      return v;
  }
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (Array.isArray(v)) return v.map(attributeValue);
  // OTLP's kvlistValue, which the receiver keeps as JSON text.
  if (typeof v === 'object' && v !== null) return JSON.stringify(attributesOf(v as Record<string, unknown>));
  return null;
}
