import { describe, expect, it } from 'vitest';
import type { SpanRecord } from './spans.js';
import { TraceStore } from './TraceStore.js';

function span(traceId: string, spanId: string, extra: Partial<SpanRecord> = {}): SpanRecord {
  return {
    traceId: traceId.padStart(32, '0'),
    spanId: spanId.padStart(16, '0'),
    parentSpanId: undefined,
    name: `span ${spanId}`,
    kind: 'internal',
    startMs: 1,
    durationMs: 1,
    status: { code: 'unset', message: '' },
    attributes: {},
    resource: { 'service.name': 'svc' },
    events: [],
    links: [],
    ...extra,
  };
}

describe('TraceStore', () => {
  it('keeps at most maxTraces, evicting the least recently updated trace', () => {
    const store = new TraceStore({ maxTraces: 2 });
    store.add([span('a', '1')]);
    store.add([span('b', '1')]);
    store.add([span('a', '2')]); // a is updated: b is now the oldest
    store.add([span('c', '1')]);
    expect(store.size).toBe(2);
    expect(store.trace('b'.padStart(32, '0'))).toBeUndefined();
    expect(store.trace('a'.padStart(32, '0'))?.spans).toHaveLength(2);
    expect(store.search().map((t) => t.traceId.at(-1))).toEqual(['c', 'a']);
  });

  it('keeps at most maxSpansPerTrace spans of a trace and counts the dropped ones', () => {
    const store = new TraceStore({ maxSpansPerTrace: 2 });
    store.add([span('a', '1'), span('a', '2'), span('a', '3'), span('a', '4')]);
    expect(store.trace('a'.padStart(32, '0'))).toMatchObject({ dropped: 2 });
    expect(store.trace('a'.padStart(32, '0'))?.spans).toHaveLength(2);
  });

  it('gives a span without its own service attributes the service of its parent', () => {
    const store = new TraceStore();
    store.add([
      span('t', '1', {
        kind: 'server',
        attributes: { 'rpc.service': 'refront.billing.v2.InvoicingService' },
      }),
      span('t', '2', { kind: 'client', parentSpanId: '1'.padStart(16, '0'), startMs: 2 }),
      span('t', '3', {
        kind: 'consumer',
        parentSpanId: '2'.padStart(16, '0'),
        startMs: 3,
        attributes: { 'messaging.consumer.group.name': 'reporting' },
      }),
      span('t', '4', { startMs: 4, parentSpanId: 'f'.padStart(16, '0') }),
    ]);
    const services = store.trace('t'.padStart(32, '0'))?.spans.map((s) => s.service);
    expect(services).toEqual(['billing', 'billing', 'reporting', 'svc']);
  });

  it('shows a span under the service its refront.service names, before any other attribute', () => {
    const store = new TraceStore();
    store.add([
      span('g', '1', { kind: 'server', attributes: { 'refront.service': 'gateway', 'http.route': '/v1/x' } }),
      span('g', '2', { kind: 'client', parentSpanId: '1'.padStart(16, '0'), startMs: 2 }),
    ]);
    expect(store.trace('g'.padStart(32, '0'))?.spans.map((s) => s.service)).toEqual(['gateway', 'gateway']);
  });
});
