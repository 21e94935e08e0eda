import { describe, expect, it } from 'vitest';
import { hrTimeToMs, nanosToMs, spanRecord } from './spanRecord.js';

describe('spanRecord: the one mapping of both span paths', () => {
  it('gives an HrTime the same ms as the decimal nanoseconds OTLP writes for it, to the last bit', () => {
    let mismatches = 0;
    // Deterministic spread of instants over 2020–2030 (the SDK's nanoseconds are integers).
    let seed = 42;
    const next = () => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed;
    };
    for (let i = 0; i < 10_000; i++) {
      const time: [number, number] = [1_577_836_800 + (next() % 315_360_000), next() % 1_000_000_000];
      const nanos = (BigInt(time[0]) * 1_000_000_000n + BigInt(time[1])).toString();
      if (hrTimeToMs(time) !== nanosToMs(nanos)) mismatches++;
    }
    expect(mismatches).toBe(0);
  });

  it('reads a root from an absent, empty or all-zero parent id, and names kinds and status codes', () => {
    const parts = {
      traceId: 'a'.repeat(32),
      spanId: 'b'.repeat(16),
      name: 'x',
      startMs: 10,
      endMs: 5,
      statusMessage: undefined,
      attributes: {},
      resource: {},
      events: [],
      links: [],
    };
    for (const parentSpanId of [undefined, '', '0000000000000000', 'abc']) {
      expect(spanRecord({ ...parts, parentSpanId, kind: 2, statusCode: 2 })).toMatchObject({
        parentSpanId: undefined,
        kind: 'server',
        status: { code: 'error', message: '' },
        durationMs: 0,
      });
    }
    expect(spanRecord({ ...parts, parentSpanId: 'c'.repeat(16), kind: 9, statusCode: 7 })).toMatchObject({
      parentSpanId: 'c'.repeat(16),
      kind: 'unspecified',
      status: { code: 'unset' },
    });
  });
});
