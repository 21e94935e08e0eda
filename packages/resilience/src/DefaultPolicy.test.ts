import { createHook } from 'node:async_hooks';
import { Writable } from 'node:stream';
import { createLogger, createMetricsRegistry } from '@refront/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createDefaultPolicy, DEFAULT_POLICY_OPTIONS } from './DefaultPolicy.js';
import { instrument, RESILIENCE_METRICS } from './instrument.js';
import type { ResiliencePolicy } from './policy.js';
import { ResilienceEvents } from './ResilienceEvents.js';
import { settle, unavailable } from './testing/helpers.js';

/** A pino logger whose lines are collected as parsed objects. */
function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  return { lines, logger: createLogger({ service: 'test', level: 'debug', destination }) };
}

describe('createDefaultPolicy', () => {
  let p: ResiliencePolicy | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    await p?.close();
    p = undefined;
    vi.useRealTimers();
  });

  it('turns on timeout, bulkhead, retry and per-target breakers, and leaves rate limiting off', () => {
    expect(DEFAULT_POLICY_OPTIONS).toEqual({
      timeout: {},
      retry: {},
      circuitBreaker: {},
      bulkhead: {},
      rateLimit: false,
    });
    p = createDefaultPolicy();
    expect(p.layers).toEqual(['timeout', 'bulkhead', 'retry', 'circuitBreaker']);
  });

  it('lets each layer be opted out of, and the rate limiter opted into', () => {
    p = createDefaultPolicy({ retry: false, circuitBreaker: false, rateLimit: { ratePerSecond: 5 } });
    expect(p.layers).toEqual(['timeout', 'rateLimit', 'bulkhead']);
    const bare = createDefaultPolicy({
      timeout: false,
      retry: false,
      circuitBreaker: false,
      bulkhead: false,
    });
    expect(bare.layers).toEqual([]);
  });

  it('passes layer options through and validates them', async () => {
    p = createDefaultPolicy({ retry: { maxAttempts: 1 } });
    let calls = 0;
    await settle(
      p.execute(async () => {
        calls++;
        throw unavailable();
      }),
    );
    expect(calls).toBe(1);
    expect(() => createDefaultPolicy({ timeout: { timeoutMs: -1 } })).toThrow(
      expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }),
    );
  });

  it('counts every state change in prom-client and logs it', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    const { lines, logger } = capturingLogger();
    p = createDefaultPolicy({
      metrics,
      logger,
      name: 'tickets',
      retry: { random: () => 0 },
      circuitBreaker: { volumeThreshold: 2, resetTimeoutMs: 1_000 },
      bulkhead: { maxConcurrent: 1, maxQueue: 0 },
      timeout: { timeoutMs: 500 },
    });
    const down = settle(p.execute(() => Promise.reject(unavailable()), { target: 'tickets/a' }));
    await vi.advanceTimersByTimeAsync(10);
    await down;
    const blocker = settle(p.execute(() => new Promise<never>(() => undefined), { target: 'tickets/b' }));
    await settle(p.execute(() => Promise.resolve(1), { target: 'tickets/b' }));
    await vi.advanceTimersByTimeAsync(1_000);
    await blocker;

    const text = await metrics.metrics();
    expect(text).toContain(`${RESILIENCE_METRICS.retries}{policy="tickets",target="tickets/a"} 2`);
    expect(text).toContain(
      `${RESILIENCE_METRICS.breakerTransitions}{policy="tickets",target="tickets/a",state="open"} 1`,
    );
    expect(text).toContain(
      `${RESILIENCE_METRICS.breakerTransitions}{policy="tickets",target="tickets/a",state="half_open"} 1`,
    );
    expect(text).toContain(
      `${RESILIENCE_METRICS.rejections}{policy="tickets",target="tickets/a",reason="RESILIENCE_CIRCUIT_OPEN"} 1`,
    );
    expect(text).toContain(
      `${RESILIENCE_METRICS.rejections}{policy="tickets",target="tickets/b",reason="RESILIENCE_BULKHEAD_FULL"} 1`,
    );
    expect(text).toContain(`${RESILIENCE_METRICS.timeouts}{policy="tickets",target="tickets/b"} 1`);
    const events = lines.map((l) => `${l.level} ${l.event}`);
    expect(events).toEqual(
      expect.arrayContaining([
        'debug retry',
        'warn breakerOpen',
        'debug rejected',
        'info breakerHalfOpen',
        'debug timeout',
      ]),
    );
    expect(lines.find((l) => l.event === 'breakerOpen')).toMatchObject({
      policy: 'tickets',
      target: 'tickets/a',
    });
  });

  it('stops counting once closed', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    p = createDefaultPolicy({ metrics, retry: false, timeout: false, bulkhead: false });
    await p.close();
    p.events.emit({ type: 'breakerOpen', target: 'x' });
    expect(await metrics.metrics()).not.toContain('target="x"');
  });
});

describe('instrument', () => {
  it('shares counters between policies on one registry', async () => {
    const metrics = createMetricsRegistry({ processMetrics: false });
    const a = new ResilienceEvents();
    const b = new ResilienceEvents();
    instrument(a, { metrics, name: 'a' });
    instrument(b, { metrics, name: 'b' });
    a.emit({ type: 'breakerClose', target: 't' });
    b.emit({ type: 'breakerClose', target: 't' });
    const text = await metrics.metrics();
    expect(text).toContain(
      `${RESILIENCE_METRICS.breakerTransitions}{policy="a",target="t",state="closed"} 1`,
    );
    expect(text).toContain(
      `${RESILIENCE_METRICS.breakerTransitions}{policy="b",target="t",state="closed"} 1`,
    );
  });

  it('names the policy "default" when no name is given, and logs without metrics', () => {
    const { lines, logger } = capturingLogger();
    const events = new ResilienceEvents();
    const sub = instrument(events, { logger });
    events.emit({ type: 'retryBudgetExhausted', target: undefined, attempt: 1, error: unavailable() });
    void sub.dispose();
    events.emit({ type: 'breakerOpen', target: 'x' });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ policy: 'default', event: 'retryBudgetExhausted', reason: 'TEST_DOWN' });
  });
});

describe('createDefaultPolicy on the hot path', () => {
  it('settles one promise per execution besides the operation’s own, through every default layer', async () => {
    const p = createDefaultPolicy();
    const operation = (): Promise<number> => Promise.resolve(7);
    await p.execute(operation, { idempotent: true, target: 'warm-up' });
    let promises = 0;
    const hook = createHook({
      init(_id, type) {
        if (type === 'PROMISE') promises++;
      },
    });
    hook.enable();
    const pending = p.execute(operation, { idempotent: true, target: 'warm-up' });
    hook.disable();
    await expect(pending).resolves.toBe(7);
    // The caller's promise, the operation's own and the one reaction that reports its outcome:
    // the layers (timeout, bulkhead, retry, breaker) pass a sink down instead of chaining promises.
    expect(promises).toBe(3);
    await p.close();
  });
});
