import type { ConsoleServiceContract } from './contracts.js';
import type { TraceSpan } from './TraceStore.js';

/** Traffic seen on an edge in the traces. */
export interface Observed {
  /** Spans that crossed it (calls served, messages handled). */
  count: number;
  /** Of which ended in error. */
  errors: number;
}

/** Who calls whom: declared (the callee's `callers`) and/or observed (server spans under another service's span). */
export interface CallEdge extends Observed {
  readonly from: string;
  readonly to: string;
  /** What the callee allows the caller (`'*'` or methods); undefined when only observed. */
  readonly allowed: '*' | readonly string[] | undefined;
}

/** Who publishes an event type to which consumer groups. */
export interface EventFlow {
  readonly type: string;
  /** The services that declare publishing it, and any seen publishing it. */
  readonly publishers: string[];
  /** Each consumer group, declared or seen, with what it handled. */
  readonly consumers: (Observed & { readonly group: string; declared: boolean })[];
}

/** The platform's shape: services, calls and events, from the contracts and the traces. */
export interface FlowView {
  readonly services: readonly string[];
  readonly calls: readonly CallEdge[];
  readonly events: readonly EventFlow[];
}

/**
 * Draws the platform from the declarations (callers, events published and consumed) and from
 * traces: a server span whose parent ran in another service is a call between them, a consumer
 * span under another service's span is that service's event reaching the span's group.
 *
 * @example
 * const flow = flowOf([{ name: 'tickets', publishes: ['refront.tickets.v1.TicketCreated'], consumes: [], callers: { gateway: '*' } }], traces);
 * flow.calls.find((c) => c.from === 'gateway' && c.to === 'tickets')?.count;
 */
export function flowOf(
  declared: readonly ConsoleServiceContract[],
  traces: Iterable<readonly TraceSpan[]>,
): FlowView {
  const services = new Set<string>(declared.map((d) => d.name));
  const calls = new Map<string, CallEdge>();
  const events = new Map<string, EventFlow>();
  const callEdge = (from: string, to: string) => {
    const key = `${from}→${to}`;
    let edge = calls.get(key);
    if (!edge) {
      edge = { from, to, allowed: undefined, count: 0, errors: 0 };
      calls.set(key, edge);
    }
    return edge;
  };
  const eventFlow = (type: string) => {
    let flow = events.get(type);
    if (!flow) {
      flow = { type, publishers: [], consumers: [] };
      events.set(type, flow);
    }
    return flow;
  };
  const consumer = (flow: EventFlow, group: string) => {
    let c = flow.consumers.find((x) => x.group === group);
    if (!c) {
      c = { group, declared: false, count: 0, errors: 0 };
      flow.consumers.push(c);
    }
    return c;
  };

  for (const d of declared) {
    for (const [caller, allowed] of Object.entries(d.callers ?? {})) {
      services.add(caller);
      calls.set(`${caller}→${d.name}`, { ...callEdge(caller, d.name), allowed });
    }
    for (const type of d.publishes) {
      const flow = eventFlow(type);
      if (!flow.publishers.includes(d.name)) flow.publishers.push(d.name);
    }
    for (const type of d.consumes) consumer(eventFlow(type), d.name).declared = true;
  }

  for (const spans of traces) {
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    for (const span of spans) {
      const parent = span.parentSpanId === undefined ? undefined : byId.get(span.parentSpanId);
      if (!parent || parent.service === span.service) continue;
      const failed = span.status.code === 'error' ? 1 : 0;
      const type = span.attributes['refront.event.type'];
      if (span.kind === 'server') {
        services.add(parent.service).add(span.service);
        const edge = callEdge(parent.service, span.service);
        edge.count++;
        edge.errors += failed;
      } else if (span.kind === 'consumer' && typeof type === 'string') {
        services.add(span.service);
        const flow = eventFlow(type);
        if (!flow.publishers.includes(parent.service)) flow.publishers.push(parent.service);
        const c = consumer(flow, span.service);
        c.count++;
        c.errors += failed;
      }
    }
  }
  return {
    services: [...services].sort(),
    calls: [...calls.values()].sort((a, b) => `${a.from}${a.to}`.localeCompare(`${b.from}${b.to}`)),
    events: [...events.values()].sort((a, b) => a.type.localeCompare(b.type)),
  };
}
