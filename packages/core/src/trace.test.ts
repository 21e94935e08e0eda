import { describe, expect, it } from 'vitest';
import { formatTraceparent, parseTraceparent, randomSpanId, randomTraceId } from './trace.js';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const SPAN = '00f067aa0ba902b7';

describe('parseTraceparent', () => {
  it('reads the sampled flag from the flags byte (other bits ignored)', () => {
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-00`)?.traceFlags).toBe(0);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-01`)?.traceFlags).toBe(1);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-03`)?.traceFlags).toBe(1);
    expect(parseTraceparent(`00-${TRACE}-${SPAN}-fe`)?.traceFlags).toBe(0);
  });

  it('accepts a later version with more fields, and upper case or padding, as the spec allows', () => {
    expect(parseTraceparent(`01-${TRACE}-${SPAN}-01-future`)).toMatchObject({ traceId: TRACE, spanId: SPAN });
    expect(parseTraceparent(` 00-${TRACE.toUpperCase()}-${SPAN}-01 `)).toMatchObject({ traceId: TRACE });
  });

  it('refuses version ff, extra fields on version 00, bad separators and non-hex digits', () => {
    for (const bad of [
      `ff-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-01-x`,
      `01-${TRACE}-${SPAN}-01x`,
      `00_${TRACE}-${SPAN}-01`,
      `00-${TRACE.slice(0, 31)}g-${SPAN}-01`,
      `00-${TRACE}-${SPAN}-0g`,
      `0g-${TRACE}-${SPAN}-01`,
      `00-${TRACE}-${SPAN.slice(0, 15)}é-01`,
    ]) {
      expect(parseTraceparent(bad), bad).toBeUndefined();
    }
  });

  it('round-trips what formatTraceparent writes', () => {
    const sc = { traceId: randomTraceId(), spanId: randomSpanId(), traceFlags: 1 };
    expect(parseTraceparent(formatTraceparent(sc))).toMatchObject(sc);
  });
});

describe('random ids', () => {
  it('are lower-case hex of the right length and distinct, across many pool refills', () => {
    const traces = new Set<string>();
    const spans = new Set<string>();
    for (let i = 0; i < 5_000; i++) {
      traces.add(randomTraceId());
      spans.add(randomSpanId());
    }
    expect(traces.size).toBe(5_000);
    expect(spans.size).toBe(5_000);
    for (const id of traces) expect(id).toMatch(/^[0-9a-f]{32}$/);
    for (const id of spans) expect(id).toMatch(/^[0-9a-f]{16}$/);
  });
});
