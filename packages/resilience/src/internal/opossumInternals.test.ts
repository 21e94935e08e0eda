import { EventEmitter } from 'node:events';
import CircuitBreaker from 'opossum';
import { afterEach, describe, expect, it } from 'vitest';
import { keepNoLatencies, latenciesHeld, windowCounterOf } from './opossumInternals.js';

/*
 * What the breaker pool assumes about opossum beyond its documented API (see opossumInternals.ts).
 * A failure here means the installed opossum changed one of those internals: re-read its
 * lib/status.js and lib/circuit.js, and fix opossumInternals.ts before anything else.
 */

const CHANGED = 'opossum changed an internal the breaker pool relies on; see internal/opossumInternals.ts:';

type Bucket = { fires: number; successes: number; latencyTimes: { length: number } };

describe('the opossum internals the breaker pool relies on', () => {
  const made: CircuitBreaker[] = [];
  const breaker = (rotator = new EventEmitter()) => {
    const b = new CircuitBreaker(() => Promise.resolve('ok'), {
      timeout: false,
      enableSnapshots: false,
      rollingPercentilesEnabled: false,
      rotateBucketController: rotator,
    });
    made.push(b);
    return b;
  };
  const window = (b: CircuitBreaker) => b.status.window as unknown as Bucket[];
  afterEach(() => {
    for (const b of made.splice(0)) b.shutdown();
  });

  it('status.increment counts a success on the window exactly as fire does, so closed breakers skip fire', async () => {
    const fired = breaker();
    const counted = breaker();
    const counter = windowCounterOf(counted);
    expect(
      counter,
      `${CHANGED} status.increment no longer counts fires and successes (every call now goes through fire)`,
    ).toBeDefined();
    for (let i = 0; i < 3; i++) {
      await fired.fire();
      counter?.countSuccess();
    }
    const counts = (b: CircuitBreaker) => ({
      fires: b.stats.fires,
      successes: b.stats.successes,
      failures: b.stats.failures,
    });
    expect(counts(fired), `${CHANGED} fire counts differently`).toEqual({
      fires: 3,
      successes: 3,
      failures: 0,
    });
    expect(counts(counted), `${CHANGED} status.increment counts differently from fire`).toEqual(
      counts(fired),
    );
  });

  it('a call records its latency in the current bucket, status.window[0].latencyTimes, which keepNoLatencies empties', async () => {
    const b = breaker();
    await b.fire();
    expect(
      window(b)[0]?.latencyTimes.length,
      `${CHANGED} latencies are no longer kept in window[0].latencyTimes`,
    ).toBe(1);
    keepNoLatencies(b);
    await b.fire();
    await b.fire();
    expect(latenciesHeld(b), `${CHANGED} keepNoLatencies no longer stops latencies piling up`).toBe(0);
    expect(b.stats.fires, 'the counts the breaker decides on are untouched').toBe(3);
    expect(b.stats.successes).toBe(3);
  });

  it("a rotation of the pool's controller puts a fresh current bucket at window[0], so the pool empties each new one", async () => {
    const rotator = new EventEmitter();
    const b = breaker(rotator);
    keepNoLatencies(b);
    await b.fire();
    const before = window(b)[0];
    rotator.emit('rotate');
    const [current, previous] = window(b);
    expect(previous, `${CHANGED} rotation no longer shifts the current bucket to window[1]`).toBe(before);
    expect(current, `${CHANGED} rotation no longer puts a new bucket at window[0]`).not.toBe(before);
    expect(current?.fires).toBe(0);
    await b.fire();
    expect(latenciesHeld(b), `${CHANGED} a new bucket keeps latencies until keepNoLatencies runs on it`).toBe(
      1,
    );
    keepNoLatencies(b);
    expect(latenciesHeld(b)).toBe(0);
    expect(b.stats.fires).toBe(2);
  });
});
