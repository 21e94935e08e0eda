import type { SpanRecord } from './spans.js';

/** Options of {@link TraceStore}. */
export interface TraceStoreOptions {
  /** Traces kept; the least recently updated goes first. @default 1000 */
  readonly maxTraces?: number;
  /** Spans kept per trace; later ones are dropped (and counted). @default 2000 */
  readonly maxSpansPerTrace?: number;
}

/** One span with the service it ran in (see {@link serviceOf}). */
export interface TraceSpan extends SpanRecord {
  readonly service: string;
}

/** One line of the trace list. */
export interface TraceSummary {
  readonly traceId: string;
  /** The root span's name (or the earliest span's when the root has not arrived). */
  readonly name: string;
  readonly startMs: number;
  readonly durationMs: number;
  readonly spanCount: number;
  /** Services seen in the trace, in order of first span. */
  readonly services: readonly string[];
  /** Tenants named by its spans (`refront.tenant`). */
  readonly tenants: readonly string[];
  readonly errors: number;
}

/** What {@link TraceStore.search} filters on; every given field must match. */
export interface TraceQuery {
  /** A tenant its spans name (`refront.tenant`). */
  readonly tenant?: string;
  /** Text found in a span name or attribute value (a ticket id, a route). */
  readonly text?: string;
  /** Only traces with an error span. */
  readonly error?: boolean;
  /** At most this many, newest first. @default 50 */
  readonly limit?: number;
}

interface Entry {
  readonly spans: Map<string, SpanRecord>;
  dropped: number;
}

/**
 * Recent traces in memory, bounded: a Map in update order, so the least recently updated trace
 * is evicted first once `maxTraces` is reached.
 */
export class TraceStore {
  private readonly traces = new Map<string, Entry>();
  private readonly maxTraces: number;
  private readonly maxSpans: number;

  constructor(options: TraceStoreOptions = {}) {
    this.maxTraces = options.maxTraces ?? 1000;
    this.maxSpans = options.maxSpansPerTrace ?? 2000;
  }

  /** Number of traces held. */
  get size(): number {
    return this.traces.size;
  }

  /** Adds spans (from one export; a trace's spans arrive over several). */
  add(spans: readonly SpanRecord[]): void {
    for (const span of spans) {
      let entry = this.traces.get(span.traceId);
      if (entry) this.traces.delete(span.traceId);
      else entry = { spans: new Map(), dropped: 0 };
      this.traces.set(span.traceId, entry);
      if (entry.spans.size >= this.maxSpans && !entry.spans.has(span.spanId)) entry.dropped++;
      else entry.spans.set(span.spanId, span);
    }
    while (this.traces.size > this.maxTraces) {
      const oldest = this.traces.keys().next().value as string;
      this.traces.delete(oldest);
    }
  }

  /** The spans of a trace, each with its service, in start order; undefined when not held. */
  trace(traceId: string): { readonly spans: readonly TraceSpan[]; readonly dropped: number } | undefined {
    const entry = this.traces.get(traceId);
    if (!entry) return undefined;
    return { spans: withServices(entry.spans), dropped: entry.dropped };
  }

  /** Traces matching `query`, most recently updated first. */
  search(query: TraceQuery = {}): TraceSummary[] {
    const limit = query.limit ?? 50;
    const text = query.text?.trim().toLowerCase() ?? '';
    const out: TraceSummary[] = [];
    const ids = [...this.traces.keys()].reverse();
    for (const id of ids) {
      if (out.length >= limit) break;
      const entry = this.traces.get(id) as Entry;
      const summary = summarize(id, withServices(entry.spans));
      if (query.tenant && !summary.tenants.includes(query.tenant)) continue;
      if (query.error && summary.errors === 0) continue;
      if (text !== '' && !mentions(entry.spans, text)) continue;
      out.push(summary);
    }
    return out;
  }
}

function mentions(spans: Map<string, SpanRecord>, text: string): boolean {
  for (const s of spans.values()) {
    if (s.name.toLowerCase().includes(text)) return true;
    for (const v of Object.values(s.attributes)) {
      if (v !== null && String(v).toLowerCase().includes(text)) return true;
    }
  }
  return false;
}

function summarize(traceId: string, spans: readonly TraceSpan[]): TraceSummary {
  const first = spans[0] as TraceSpan;
  const root = spans.find((s) => s.parentSpanId === undefined) ?? first;
  let end = 0;
  const services: string[] = [];
  const tenants = new Set<string>();
  let errors = 0;
  for (const s of spans) {
    end = Math.max(end, s.startMs + s.durationMs);
    if (!services.includes(s.service)) services.push(s.service);
    const tenant = s.attributes['refront.tenant'];
    if (typeof tenant === 'string' && tenant !== '') tenants.add(tenant);
    if (s.status.code === 'error') errors++;
  }
  return {
    traceId,
    name: root.name,
    startMs: first.startMs,
    durationMs: end - first.startMs,
    spanCount: spans.length,
    services,
    tenants: [...tenants],
    errors,
  };
}

/**
 * The service a span ran in. A process that hosts several services (the modular monolith)
 * exports them all under one `service.name`, so the span's own attributes come first: a server
 * span belongs to the service of `rpc.service` (`refront.tickets.v1.TicketsService` → `tickets`),
 * a consumer span to its consumer group; any other span to its parent's service; and a root
 * without either to its resource's `service.name`.
 */
export function serviceOf(span: SpanRecord, parentService: string | undefined): string {
  const declared = span.attributes['refront.service'];
  if (typeof declared === 'string' && declared !== '') return declared;
  const group = span.attributes['messaging.consumer.group.name'];
  if (span.kind === 'consumer' && typeof group === 'string' && group !== '') return group;
  const rpcService = span.attributes['rpc.service'];
  if (span.kind === 'server' && typeof rpcService === 'string') {
    const parts = rpcService.split('.');
    // refront.<service>.v1.<Name>: the package's service segment; else the last segment.
    return parts.length >= 3 && /^v\d+/.test(parts[parts.length - 2] as string)
      ? (parts[parts.length - 3] as string)
      : (parts[parts.length - 1] as string);
  }
  if (parentService !== undefined) return parentService;
  const name = span.resource['service.name'];
  return typeof name === 'string' ? name : 'unknown';
}

/** The spans in start order, each with its service (parents resolved before children). */
function withServices(spans: Map<string, SpanRecord>): TraceSpan[] {
  const sorted = [...spans.values()].sort((a, b) => a.startMs - b.startMs);
  const services = new Map<string, string>();
  const resolve = (s: SpanRecord, depth: number): string => {
    const known = services.get(s.spanId);
    if (known !== undefined) return known;
    const parent = s.parentSpanId === undefined ? undefined : spans.get(s.parentSpanId);
    const service = serviceOf(s, parent && depth < 256 ? resolve(parent, depth + 1) : undefined);
    services.set(s.spanId, service);
    return service;
  };
  return sorted.map((s) => ({ ...s, service: resolve(s, 0) }));
}
