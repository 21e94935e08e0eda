import type { InMemorySpanExporter, ReadableSpan } from '@opentelemetry/sdk-trace-base';

/**
 * The spans finished since the app started (or since {@link SpanCapture.clear}), from an
 * `InMemorySpanExporter` of `@opentelemetry/sdk-trace-base` registered as the process's tracer
 * provider. Apps open at once in one process share it.
 *
 * @example
 * await client.createTicket({ title: 'Down' });
 * const server = app.spans.finished().find((s) => s.name === 'refront.tickets.v1.TicketsService/CreateTicket');
 */
export interface SpanCapture {
  /** Whether spans are recorded (false with `tracing: false`). */
  readonly enabled: boolean;
  /** The finished spans, oldest first, optionally those `where` accepts. */
  finished(where?: (span: ReadableSpan) => boolean): readonly ReadableSpan[];
  /** Forgets the spans finished so far. */
  clear(): void;
}

/** A capture reading `exporter` from its length now on. */
export function spanCapture(exporter: InMemorySpanExporter | undefined): SpanCapture {
  let from = exporter?.getFinishedSpans().length ?? 0;
  return {
    enabled: exporter !== undefined,
    finished: (where) => {
      const spans = exporter?.getFinishedSpans().slice(from) ?? [];
      return where ? spans.filter(where) : spans;
    },
    clear: () => {
      from = exporter?.getFinishedSpans().length ?? 0;
    },
  };
}
