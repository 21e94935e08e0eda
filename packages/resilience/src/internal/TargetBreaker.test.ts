import { RefrontError } from '@refront/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCircuitBreakerPool } from '../CircuitBreakerPool.js';
import { ResilienceReason } from '../errors.js';
import { reasonOf, settle, unavailable } from '../testing/helpers.js';
import { windowCounterOf } from './opossumInternals.js';

// An opossum whose internals changed: the window counter's check fails, so every call goes
// through opossum's public `fire`. The breaker must behave exactly as with the fast path.
vi.mock('./opossumInternals.js', async (original) => ({
  ...(await original<typeof import('./opossumInternals.js')>()),
  windowCounterOf: () => undefined,
}));

const fail = (): Promise<never> => Promise.reject(unavailable());
const ok = (): Promise<string> => Promise.resolve('ok');

describe('a breaker without the fast path (every call through fire)', () => {
  let pool: ReturnType<typeof createCircuitBreakerPool>;
  const counts = (target: string) =>
    (pool as unknown as { windowCounts(t: string): Record<string, number> | undefined }).windowCounts(target);

  beforeEach(() => {
    vi.useFakeTimers();
    pool = createCircuitBreakerPool();
  });
  afterEach(async () => {
    await pool.close();
    vi.useRealTimers();
  });

  it('counts every call once, answers as successes', async () => {
    expect(windowCounterOf({} as never)).toBeUndefined();
    for (let i = 0; i < 7; i++) await pool.execute('t', ok);
    for (let i = 0; i < 3; i++) await settle(pool.execute('t', fail));
    await settle(pool.execute('t', () => Promise.reject(new RefrontError('NOT_FOUND', 'X_NOT_FOUND', 'no'))));
    expect(counts('t')).toEqual({ fires: 11, successes: 8, failures: 3 });
  });

  it('opens at the threshold, refuses naming the target, and closes after a good probe', async () => {
    for (let i = 0; i < 19; i++) await settle(pool.execute('a', fail));
    expect(pool.state('a')).toBe('closed');
    await settle(pool.execute('a', fail));
    expect(pool.state('a')).toBe('open');
    expect(reasonOf((await settle(pool.execute('a', ok))).error)).toBe(ResilienceReason.CIRCUIT_OPEN);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pool.state('a')).toBe('halfOpen');
    await expect(pool.execute('a', ok)).resolves.toBe('ok');
    expect(pool.state('a')).toBe('closed');
  });

  it('keeps no latencies', async () => {
    for (let i = 0; i < 50; i++) await pool.execute('t', ok);
    expect((pool as unknown as { latenciesHeld(t: string): number }).latenciesHeld('t')).toBe(0);
  });
});
