import { RefrontError } from '@refront/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  type CircuitBreakerOptions,
  DEFAULT_BREAKER_IDLE_TTL_MS,
  DEFAULT_ERROR_THRESHOLD_PERCENTAGE,
  DEFAULT_RESET_TIMEOUT_MS,
  DEFAULT_ROLLING_BUCKETS,
  DEFAULT_ROLLING_WINDOW_MS,
  DEFAULT_VOLUME_THRESHOLD,
} from './CircuitBreakerOptions.js';
import { createCircuitBreakerPool } from './CircuitBreakerPool.js';
import { ResilienceReason } from './errors.js';
import { DEFAULT_FAILURE_STATUSES, isInstanceFailure } from './failureStatuses.js';
import { policy } from './policy.js';
import type { ResilienceEvent } from './ResilienceEvents.js';
import { createRetry } from './Retry.js';
import { createTimeout } from './Timeout.js';
import { hang, reasonOf, settle, unavailable } from './testing/helpers.js';

const fail = (): Promise<never> => Promise.reject(unavailable());
const ok = (): Promise<string> => Promise.resolve('ok');

async function failTimes(
  pool: ReturnType<typeof createCircuitBreakerPool>,
  target: string,
  n: number,
): Promise<void> {
  for (let i = 0; i < n; i++) await settle(pool.execute(target, fail));
}

describe('createCircuitBreakerPool', () => {
  let pool: ReturnType<typeof createCircuitBreakerPool>;
  let events: ResilienceEvent[];
  const make = (options: CircuitBreakerOptions = {}) => {
    pool = createCircuitBreakerPool(options);
    events = [];
    pool.events.onAny((e) => events.push(e));
    return pool;
  };

  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    await pool?.close();
    vi.useRealTimers();
  });

  it('has documented defaults', () => {
    expect(DEFAULT_ERROR_THRESHOLD_PERCENTAGE).toBe(50);
    expect(DEFAULT_VOLUME_THRESHOLD).toBe(20);
    expect(DEFAULT_ROLLING_WINDOW_MS).toBe(10_000);
    expect(DEFAULT_ROLLING_BUCKETS).toBe(10);
    expect(DEFAULT_RESET_TIMEOUT_MS).toBe(10_000);
    expect(DEFAULT_BREAKER_IDLE_TTL_MS).toBe(300_000);
    expect(DEFAULT_FAILURE_STATUSES).toEqual([
      'UNAVAILABLE',
      'DEADLINE_EXCEEDED',
      'RESOURCE_EXHAUSTED',
      'INTERNAL',
      'UNKNOWN',
      'DATA_LOSS',
    ]);
  });

  it('keeps no per-call latencies in its window, across rotations, and still counts what it decides on', async () => {
    const p = make();
    const held = (target: string): number =>
      (p as unknown as { latenciesHeld(t: string): number }).latenciesHeld(target);
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 500; i++) await p.execute('t', ok);
      expect(held('t')).toBe(0);
      await vi.advanceTimersByTimeAsync(DEFAULT_ROLLING_WINDOW_MS / DEFAULT_ROLLING_BUCKETS);
    }
    // The counts still decide: past the threshold at the minimum volume it opens.
    await failTimes(p, 'fresh', DEFAULT_VOLUME_THRESHOLD);
    expect(held('fresh')).toBe(0);
    expect(p.state('fresh')).toBe('open');
  });

  it('counts every call of a closed breaker once in its window: fires, successes, failures', async () => {
    const p = make();
    const counts = (target: string) =>
      (p as unknown as { windowCounts(t: string): Record<string, number> | undefined }).windowCounts(target);
    for (let i = 0; i < 7; i++) await p.execute('t', ok);
    await failTimes(p, 't', 3);
    await settle(p.execute('t', () => Promise.reject(new RefrontError('NOT_FOUND', 'X_NOT_FOUND', 'no'))));
    expect(counts('t')).toEqual({ fires: 11, successes: 8, failures: 3 });
  });

  it('has counted a failure, and opened if it must, by the time the caller hears of it', async () => {
    make({ volumeThreshold: 1 });
    const seen = await pool.execute('a', fail).catch(() => pool.state('a'));
    expect(seen).toBe('open');
  });

  it('reports a call that fails after its breaker opened with its own error, not a refusal', async () => {
    make({ volumeThreshold: 1 });
    let reject: (e: unknown) => void = () => undefined;
    const slow = settle(pool.execute('a', () => new Promise<never>((_, r) => (reject = r))));
    await settle(pool.execute('a', fail));
    expect(pool.state('a')).toBe('open');
    reject(unavailable('late'));
    const { error } = await slow;
    expect(reasonOf(error)).toBe('TEST_DOWN');
    expect((error as Error).message).toBe('late');
    expect(events.map((e) => e.type)).toEqual(['breakerOpen']);
  });

  it('stays closed below the minimum volume, however many calls fail', async () => {
    make();
    await failTimes(pool, 'a', 19);
    expect(pool.state('a')).toBe('closed');
  });

  it('opens past the error threshold at the minimum volume and then fails fast naming the target', async () => {
    make();
    await failTimes(pool, 'tickets/10.0.0.7:50051', 20);
    expect(pool.state('tickets/10.0.0.7:50051')).toBe('open');
    expect(pool.isOpen('tickets/10.0.0.7:50051')).toBe(true);
    const fn = vi.fn(ok);
    const { error } = await settle(pool.execute('tickets/10.0.0.7:50051', fn));
    expect(fn).not.toHaveBeenCalled();
    expect(error).toBeInstanceOf(RefrontError);
    expect(error).toMatchObject({
      status: 'UNAVAILABLE',
      reason: ResilienceReason.CIRCUIT_OPEN,
      retryable: true,
      unprocessed: true,
      details: { metadata: { target: 'tickets/10.0.0.7:50051' } },
    });
    expect((error as Error).message).toContain('tickets/10.0.0.7:50051');
    expect(events.map((e) => e.type)).toEqual(['breakerOpen', 'rejected']);
  });

  it('does not open at or under the threshold', async () => {
    make();
    for (let i = 0; i < 10; i++) {
      await settle(pool.execute('a', fail));
      await pool.execute('a', ok);
    }
    expect(pool.state('a')).toBe('closed');
  });

  it('uses the threshold, volume and reset timeout it is given', async () => {
    make({ errorThresholdPercentage: 10, volumeThreshold: 5, resetTimeoutMs: 1_000 });
    for (let i = 0; i < 4; i++) await pool.execute('a', ok);
    await settle(pool.execute('a', fail));
    expect(pool.state('a')).toBe('open');
    await vi.advanceTimersByTimeAsync(1_000);
    expect(pool.state('a')).toBe('halfOpen');
  });

  it('half-opens after the reset timeout, lets one probe through, and closes when it succeeds', async () => {
    make();
    await failTimes(pool, 'a', 20);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(pool.state('a')).toBe('open');
    await vi.advanceTimersByTimeAsync(1);
    expect(pool.state('a')).toBe('halfOpen');
    expect(pool.isOpen('a')).toBe(false);

    let answer: (v: string) => void = () => undefined;
    const probe = pool.execute('a', () => new Promise<string>((r) => (answer = r)));
    expect(pool.isOpen('a')).toBe(true);
    const second = await settle(pool.execute('a', ok));
    expect(reasonOf(second.error)).toBe(ResilienceReason.CIRCUIT_OPEN);
    answer('recovered');
    await expect(probe).resolves.toBe('recovered');
    expect(pool.state('a')).toBe('closed');
    await expect(pool.execute('a', ok)).resolves.toBe('ok');
    expect(events.map((e) => e.type)).toEqual(['breakerOpen', 'breakerHalfOpen', 'rejected', 'breakerClose']);
  });

  it('reopens when the probe fails, and waits another reset timeout', async () => {
    make();
    await failTimes(pool, 'a', 20);
    await vi.advanceTimersByTimeAsync(10_000);
    await settle(pool.execute('a', fail));
    expect(pool.state('a')).toBe('open');
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pool.state('a')).toBe('halfOpen');
    await pool.execute('a', ok);
    expect(pool.state('a')).toBe('closed');
  });

  it('keeps one breaker per target', async () => {
    make();
    await failTimes(pool, 'a', 20);
    expect(pool.state('a')).toBe('open');
    await expect(pool.execute('b', ok)).resolves.toBe('ok');
    expect(pool.state('b')).toBe('closed');
    expect(pool.state('c')).toBeUndefined();
    expect(pool.size).toBe(2);
  });

  it('does not count answers such as NOT_FOUND as failures', async () => {
    make();
    const notFound = () => Promise.reject(new RefrontError('NOT_FOUND', 'TEST_NOT_FOUND', 'no such ticket'));
    for (let i = 0; i < 30; i++) await settle(pool.execute('a', notFound));
    expect(pool.state('a')).toBe('closed');
  });

  it('counts exactly the failureStatuses it is given', async () => {
    make({ failureStatuses: ['NOT_FOUND'] });
    await failTimes(pool, 'a', 30);
    expect(pool.state('a')).toBe('closed');
    const notFound = () => Promise.reject(new RefrontError('NOT_FOUND', 'TEST_NOT_FOUND', 'gone'));
    for (let i = 0; i < 20; i++) await settle(pool.execute('b', notFound));
    expect(pool.state('b')).toBe('open');
  });

  it("does not count the caller's cancellations, but counts deadlines", async () => {
    make();
    for (let i = 0; i < 25; i++) {
      const c = new AbortController();
      const call = settle(pool.execute('a', () => hang(c.signal), { signal: c.signal }));
      c.abort(new Error('user left'));
      await call;
    }
    expect(pool.state('a')).toBe('closed');
    for (let i = 0; i < 20; i++) {
      const c = new AbortController();
      const call = settle(pool.execute('b', () => hang(c.signal), { signal: c.signal }));
      c.abort(new DOMException('deadline', 'TimeoutError'));
      await call;
    }
    expect(pool.state('b')).toBe('open');
  });

  it('counts a fired deadline only when DEADLINE_EXCEEDED is one of its failureStatuses, as isInstanceFailure does', async () => {
    make({ failureStatuses: ['UNAVAILABLE'], volumeThreshold: 1 });
    const p = policy(createTimeout({ timeoutMs: 50 }), pool);
    for (let i = 0; i < 5; i++) {
      const call = settle(p.execute(({ signal }) => hang(signal), { target: 'a' }));
      await vi.advanceTimersByTimeAsync(50);
      const { error } = await call;
      expect(reasonOf(error)).toBe(ResilienceReason.TIMEOUT);
      // The balancer's view of the same error, by the same failureStatuses.
      expect(isInstanceFailure(error, p)).toBe(false);
    }
    expect(pool.state('a')).toBe('closed');
    // One failure it counts opens a breaker at this volume.
    await settle(p.execute(fail, { target: 'b' }));
    expect(pool.state('b')).toBe('open');
  });

  it('settles a half-open probe that ignores its signal once the signal aborts, and reopens', async () => {
    make();
    await failTimes(pool, 'a', 20);
    await vi.advanceTimersByTimeAsync(10_000);
    const c = new AbortController();
    const probe = settle(pool.execute('a', () => new Promise<never>(() => undefined), { signal: c.signal }));
    c.abort(new Error('gave up'));
    expect((await probe).error).toMatchObject({ message: 'gave up' });
    expect(pool.state('a')).toBe('open');
  });

  it('forgets failures that left the rolling window', async () => {
    make();
    await failTimes(pool, 'a', 19);
    await vi.advanceTimersByTimeAsync(10_000);
    await failTimes(pool, 'a', 19);
    expect(pool.state('a')).toBe('closed');
  });

  it('drops idle breakers so churning instances cannot leak them, but never one in flight', async () => {
    make({ idleTtlMs: 5_000 });
    let finish: (v: string) => void = () => undefined;
    const busy = pool.execute('busy', () => new Promise<string>((r) => (finish = r)));
    await pool.execute('idle', ok);
    expect(pool.size).toBe(2);
    await vi.advanceTimersByTimeAsync(7_000);
    expect(pool.state('idle')).toBeUndefined();
    expect(pool.state('busy')).toBe('closed');
    finish('done');
    await busy;
    await vi.advanceTimersByTimeAsync(7_000);
    expect(pool.size).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('after close() refuses calls with CORE_CLOSED, not retryable, and holds no timer', async () => {
    make();
    await failTimes(pool, 'a', 20);
    await pool.close();
    expect(vi.getTimerCount()).toBe(0);
    const { error } = await settle(pool.execute('a', ok));
    expect(reasonOf(error)).toBe('CORE_CLOSED');
    // As core declares it: a closed pool stays closed, so a retry could only fail the same way.
    expect(error).toMatchObject({ status: 'UNAVAILABLE', retryable: false, unprocessed: true });
  });

  it('as a policy layer, guards the instance each attempt picked so a retry goes elsewhere', async () => {
    make({ volumeThreshold: 1 });
    await settle(pool.execute('tickets/a', fail));
    expect(pool.state('tickets/a')).toBe('open');
    const p = policy(createRetry({ random: () => 0 }), pool);
    const picks = ['tickets/a', 'tickets/b'];
    const seen: (string | undefined)[] = [];
    const result = p.execute(
      async ({ target }) => {
        seen.push(target);
        return 'ok';
      },
      { pickTarget: (attempt) => picks[attempt - 1]! },
    );
    await vi.advanceTimersByTimeAsync(10);
    await expect(result).resolves.toBe('ok');
    expect(seen).toEqual(['tickets/b']);
  });

  it.each([
    { errorThresholdPercentage: 0 },
    { errorThresholdPercentage: 101 },
    { volumeThreshold: -1 },
    { rollingWindowMs: 5, rollingBuckets: 10 },
    { resetTimeoutMs: 0 },
    { idleTtlMs: 0 },
    { failureStatuses: ['OK' as never] },
  ])('rejects %o at construction', (options) => {
    expect(() => createCircuitBreakerPool(options)).toThrow(
      expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }),
    );
  });
});
