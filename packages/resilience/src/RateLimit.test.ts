import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilienceReason } from './errors.js';
import { policy } from './policy.js';
import { createRateLimit } from './RateLimit.js';
import { settle } from './testing/helpers.js';

const ok = (): Promise<string> => Promise.resolve('ok');

describe('createRateLimit', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('allows a burst of ratePerSecond by default, then rejects with the time to the next token', async () => {
    const p = policy(createRateLimit({ ratePerSecond: 5 }));
    for (let i = 0; i < 5; i++) await expect(p.execute(ok)).resolves.toBe('ok');
    const { error } = await settle(p.execute(ok, { target: 'ai' }));
    expect(error).toMatchObject({
      status: 'RESOURCE_EXHAUSTED',
      reason: ResilienceReason.RATE_LIMITED,
      retryable: false,
      details: { retryDelayMs: 200, metadata: { target: 'ai' } },
    });
  });

  it('refills at ratePerSecond up to the burst it is given', async () => {
    const limit = createRateLimit({ ratePerSecond: 10, burst: 2 });
    expect(limit.tryAcquire()).toBe(0);
    expect(limit.tryAcquire()).toBe(0);
    expect(limit.tryAcquire()).toBe(100);
    vi.advanceTimersByTime(100);
    expect(limit.tryAcquire()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(limit.tryAcquire()).toBe(0);
    expect(limit.tryAcquire()).toBe(0);
    expect(limit.tryAcquire()).toBeGreaterThan(0);
  });

  it('emits a rejected event', async () => {
    const p = policy(createRateLimit({ ratePerSecond: 1 }));
    const reasons: string[] = [];
    p.events.on('rejected', (e) => reasons.push(e.reason));
    await p.execute(ok);
    await settle(p.execute(ok));
    expect(reasons).toEqual([ResilienceReason.RATE_LIMITED]);
  });

  it.each([{ ratePerSecond: 0 }, { ratePerSecond: -1 }, { ratePerSecond: 5, burst: 0.5 }, {} as never])(
    'rejects %o at construction',
    (o) => {
      expect(() => createRateLimit(o)).toThrow(expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }));
    },
  );
});
