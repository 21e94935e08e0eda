import type { ConsoleServiceContract } from '../contracts.js';
import type { TraceSpan } from '../TraceStore.js';

/** A made-up platform for the Flow view's tests: declarations and traces that cross every edge. */
export interface SyntheticPlatform {
  readonly services: readonly ConsoleServiceContract[];
  /** One trace per declared edge: its caller's (publisher's) span and a span per call (delivery). */
  readonly traces: readonly (readonly TraceSpan[])[];
  /** How many edges were declared: calls, publishes and deliveries. */
  readonly edges: number;
}

const WORDS = [
  'accounts',
  'billing',
  'catalog',
  'checkout',
  'customers',
  'documents',
  'identity',
  'inventory',
  'invoicing',
  'ledger',
  'notifications',
  'orders',
  'payments',
  'pricing',
  'reporting',
  'search',
  'shipping',
  'subscriptions',
  'tickets',
  'time-tracking',
];
const EVENTS = ['Created', 'Updated', 'Closed', 'AssignmentChanged', 'PeriodClosed', 'Reconciled'];

/** A seeded generator (Park–Miller's minimal standard), so every run draws the same platform. */
function random(seed: number): () => number {
  let state = seed % 2147483647 || 1;
  return () => {
    state = (state * 48271) % 2147483647;
    return (state - 1) / 2147483646;
  };
}

function span(
  traceId: string,
  id: string,
  parent: string | undefined,
  service: string,
  kind: TraceSpan['kind'],
  attributes: Record<string, string> = {},
  error = false,
): TraceSpan {
  return {
    traceId,
    spanId: id,
    parentSpanId: parent,
    name: `${service} ${kind}`,
    kind,
    startMs: Date.now(),
    durationMs: 1,
    status: { code: error ? 'error' : 'unset', message: '' },
    attributes: { 'refront.service': service, ...attributes },
    resource: { 'service.name': service },
    events: [],
    links: [],
    service,
  };
}

/**
 * A platform of `size` services (a gateway among them) in three tiers, each service called by the
 * gateway or one to three services of the tier above,
 * publish about `size / 2` event types to one to three consumer groups each, and a trace per
 * edge with up to 140 calls or deliveries, some failing: about 150 edges at 60 services.
 */
export function syntheticPlatform(size: number, seed = 24): SyntheticPlatform {
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)] as T;
  const names = [
    'gateway',
    ...Array.from({ length: size - 1 }, (_, i) => `${WORDS[i % WORDS.length]}-${i + 1}`),
  ];
  const callers = new Map<string, Record<string, '*'>>();
  const publishes = new Map<string, string[]>(names.map((n) => [n, []]));
  const consumes = new Map<string, string[]>(names.map((n) => [n, []]));
  const traces: TraceSpan[][] = [];
  let edges = 0;
  const traffic = (id: string, from: string, to: string, kind: 'server' | 'consumer', type?: string) => {
    const count = 1 + Math.floor(next() * 140);
    const errors = next() < 0.3 ? 1 + Math.floor(next() * Math.min(count, 12)) : 0;
    const traceId = id.padStart(32, '0');
    const root = span(traceId, `${id}r`.padStart(16, '0'), undefined, from, 'server');
    const attributes: Record<string, string> = type ? { 'refront.event.type': type } : {};
    traces.push([
      root,
      ...Array.from({ length: count }, (_, i) =>
        span(traceId, `${id}c${i}`.padStart(16, '0'), root.spanId, to, kind, attributes, i < errors),
      ),
    ]);
  };

  // Three tiers, as platforms are built: the gateway calls the first, each tier calls the next.
  const tier = (i: number) => Math.min(3, 1 + Math.floor(((i - 1) * 3) / (size - 1)));
  for (const [i, callee] of names.entries()) {
    if (i === 0) continue;
    const above = names.filter((_, k) => k > 0 && tier(k) === tier(i) - 1);
    const allowed: Record<string, '*'> = {};
    const callerCount = tier(i) === 1 ? 1 : 1 + Math.floor(next() * 3);
    for (let k = 0; k < callerCount; k++) {
      const caller = tier(i) === 1 || next() < 0.1 ? 'gateway' : pick(above);
      if (allowed[caller]) continue;
      allowed[caller] = '*';
      edges++;
      traffic(`${edges}`, caller, callee, 'server');
    }
    callers.set(callee, allowed);
  }
  for (let e = 0; e < Math.floor(size / 2); e++) {
    const publisher = pick(names.slice(1));
    const type = `refront.${publisher.replace(/-\d+$/, '').replaceAll('-', '_')}.v1.${pick(EVENTS)}${e}`;
    publishes.get(publisher)?.push(type);
    edges++;
    const groups = new Set<string>();
    const fanOut = 1 + Math.floor(next() * 3);
    while (groups.size < fanOut) {
      const group = pick(names.slice(1));
      if (group !== publisher) groups.add(group);
    }
    for (const group of groups) {
      consumes.get(group)?.push(type);
      edges++;
      traffic(`${edges}`, publisher, group, 'consumer', type);
    }
  }
  return {
    services: names.map((name) => ({
      name,
      publishes: publishes.get(name) ?? [],
      consumes: consumes.get(name) ?? [],
      ...(callers.has(name) ? { callers: callers.get(name) } : {}),
    })),
    traces,
    edges,
  };
}
