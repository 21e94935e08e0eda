import { CoreReason, createLogger, createRequestContext, RefrontError, runWithContext } from '@refront/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilienceErrors } from './errors.js';
import { policy } from './policy.js';
import type { RetryEvent } from './ResilienceEvents.js';
import {
  createRetry,
  DEFAULT_BASE_DELAY_MS,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_DELAY_MS,
  DEFAULT_RETRY_ON,
  fullJitterDelay,
} from './Retry.js';
import { createRetryBudget } from './RetryBudget.js';
import { createTimeout } from './Timeout.js';
import { hang, settle, unavailable } from './testing/helpers.js';

const err = (status: ConstructorParameters<typeof RefrontError>[0], retryable?: boolean): RefrontError =>
  new RefrontError(status, 'TEST_FAILED', status, retryable === undefined ? {} : { retryable });

/** A rejection by an open breaker, as the breaker layer makes it (CircuitBreakerPool.test checks that). */
const openBreaker = (): RefrontError =>
  ResilienceErrors.CIRCUIT_OPEN.with({ unprocessed: true, cause: unavailable() }, 'tickets/10.0.0.7:50051');

/** An operation that fails with `error` `failures` times, then answers 'ok'; counts its calls. */
function failing(error: unknown, failures = Number.POSITIVE_INFINITY) {
  const calls: number[] = [];
  const fn = vi.fn(async ({ attempt }: { attempt: number }) => {
    calls.push(attempt);
    if (calls.length <= failures) throw error;
    return 'ok';
  });
  return { fn, calls };
}

describe('fullJitterDelay', () => {
  it('stays within [0, min(maxDelay, base * 2^(retry-1))) and the cap saturates', () => {
    const randoms = [0, 0.25, 0.5, 0.999_999];
    for (let retry = 1; retry <= 12; retry++) {
      const cap = Math.min(5_000, 100 * 2 ** (retry - 1));
      for (const r of randoms) {
        const d = fullJitterDelay(retry, 100, 5_000, () => r);
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThan(cap);
      }
      expect(fullJitterDelay(retry, 100, 5_000, () => 0.999_999)).toBeCloseTo(cap, -1);
    }
    expect(fullJitterDelay(20, 100, 5_000, () => 0.5)).toBe(2_500);
  });

  it('spreads delays across the whole range (full jitter, not equal jitter)', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const delays = Array.from({ length: 2_000 }, () => fullJitterDelay(3, 100, 5_000, random));
    expect(Math.min(...delays)).toBeLessThan(20);
    expect(Math.max(...delays)).toBeGreaterThan(380);
    expect(Math.max(...delays)).toBeLessThan(400);
  });
});

describe('createRetry', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('has documented defaults', () => {
    expect(DEFAULT_MAX_ATTEMPTS).toBe(3);
    expect(DEFAULT_BASE_DELAY_MS).toBe(100);
    expect(DEFAULT_MAX_DELAY_MS).toBe(5_000);
    expect(DEFAULT_RETRY_ON).toEqual(['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'ABORTED']);
    expect(createRetry().budget).toBeDefined();
  });

  it('retries UNAVAILABLE up to 3 attempts by default, with jittered exponential backoff', async () => {
    const p = policy(createRetry({ random: () => 0.5 }));
    const retries: RetryEvent[] = [];
    p.events.on('retry', (e) => retries.push(e));
    const { fn, calls } = failing(unavailable());
    const result = settle(p.execute(fn, { target: 'tickets' }));
    await vi.advanceTimersByTimeAsync(49);
    expect(calls).toEqual([1]);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toEqual([1, 2]);
    await vi.advanceTimersByTimeAsync(100);
    expect(calls).toEqual([1, 2, 3]);
    expect((await result).error).toMatchObject({ status: 'UNAVAILABLE', reason: 'TEST_DOWN' });
    expect(retries.map((e) => [e.attempt, e.delayMs, e.target])).toEqual([
      [2, 50, 'tickets'],
      [3, 100, 'tickets'],
    ]);
  });

  it('retries a rejection by an open breaker at once and outside the budget', async () => {
    const p = policy(createRetry({ random: () => 0.5, budget: { ratio: 0, minRetriesPerSecond: 0 } }));
    const retries: RetryEvent[] = [];
    p.events.on('retry', (e) => retries.push(e));
    const { fn, calls } = failing(openBreaker());
    const result = settle(p.execute(fn, { target: 'tickets' }));
    // No timer advanced: all three attempts ran without waiting.
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([1, 2, 3]);
    expect((await result).error).toMatchObject({ status: 'UNAVAILABLE', reason: 'RESILIENCE_CIRCUIT_OPEN' });
    expect(retries.map((e) => e.delayMs)).toEqual([0, 0]);
  });

  it('returns the first success', async () => {
    const p = policy(createRetry({ random: () => 0 }));
    const { fn, calls } = failing(unavailable(), 1);
    const result = p.execute(fn);
    await vi.advanceTimersByTimeAsync(10);
    await expect(result).resolves.toBe('ok');
    expect(calls).toEqual([1, 2]);
  });

  it('uses maxAttempts, baseDelayMs and maxDelayMs when given', async () => {
    const p = policy(createRetry({ maxAttempts: 5, baseDelayMs: 10, maxDelayMs: 25, random: () => 0.999 }));
    const delays: number[] = [];
    p.events.on('retry', (e) => delays.push(Math.round(e.delayMs)));
    const { fn, calls } = failing(unavailable());
    const result = settle(p.execute(fn));
    await vi.advanceTimersByTimeAsync(1_000);
    await result;
    expect(calls).toHaveLength(5);
    expect(delays).toEqual([10, 20, 25, 25]);
  });

  it.each(['RESOURCE_EXHAUSTED', 'ABORTED'] as const)(
    'retries %s only for idempotent operations',
    async (status) => {
      const p = policy(createRetry({ random: () => 0 }));
      const once = failing(err(status));
      await settle(p.execute(once.fn));
      expect(once.calls).toHaveLength(1);
      const idem = failing(err(status));
      const result = settle(p.execute(idem.fn, { idempotent: true }));
      await vi.advanceTimersByTimeAsync(10);
      await result;
      expect(idem.calls).toHaveLength(3);
    },
  );

  describe('what is safe to run twice', () => {
    const lost = (): RefrontError =>
      new RefrontError('UNAVAILABLE', CoreReason.LOST_IN_FLIGHT, 'connection lost with the call in flight');

    it('never retries a call that is not idempotent after it was lost in flight', async () => {
      const p = policy(createRetry({ random: () => 0 }));
      const { fn, calls } = failing(lost());
      const result = settle(p.execute(fn));
      await vi.advanceTimersByTimeAsync(1_000);
      expect((await result).error).toMatchObject({ reason: 'CORE_LOST_IN_FLIGHT' });
      expect(calls).toEqual([1]);
    });

    it('never retries a call that is not idempotent after an UNAVAILABLE of unknown delivery', async () => {
      const p = policy(createRetry({ random: () => 0 }));
      const { fn, calls } = failing(new RefrontError('UNAVAILABLE', 'GRPC_STATUS', 'Connection dropped'));
      const result = settle(p.execute(fn));
      await vi.advanceTimersByTimeAsync(1_000);
      await result;
      expect(calls).toEqual([1]);
    });

    it('retries a call that is not idempotent when the error is marked unprocessed', async () => {
      const p = policy(createRetry({ random: () => 0 }));
      const refused = new RefrontError('UNAVAILABLE', CoreReason.DRAINING, 'draining', { unprocessed: true });
      const { fn, calls } = failing(refused, 2);
      const result = p.execute(fn);
      await vi.advanceTimersByTimeAsync(10);
      await expect(result).resolves.toBe('ok');
      expect(calls).toEqual([1, 2, 3]);
    });

    it('retries an idempotent call lost in flight', async () => {
      const p = policy(createRetry({ random: () => 0 }));
      const { fn, calls } = failing(lost(), 1);
      const result = p.execute(fn, { idempotent: true });
      await vi.advanceTimersByTimeAsync(10);
      await expect(result).resolves.toBe('ok');
      expect(calls).toEqual([1, 2]);
    });

    it('never retries an unprocessed error marked not retryable', async () => {
      const p = policy(createRetry({ random: () => 0 }));
      const { fn, calls } = failing(
        new RefrontError('INVALID_ARGUMENT', 'TEST_BAD', 'bad', { unprocessed: true, retryable: false }),
      );
      await settle(p.execute(fn));
      expect(calls).toEqual([1]);
    });

    it("marks an open breaker's rejection unprocessed, so a call that is not idempotent moves on", async () => {
      const p = policy(createRetry({ random: () => 0 }));
      const { fn, calls } = failing(openBreaker(), 1);
      const result = p.execute(fn);
      await vi.advanceTimersByTimeAsync(0);
      await expect(result).resolves.toBe('ok');
      expect(calls).toEqual([1, 2]);
    });
  });

  it.each(['NOT_FOUND', 'INVALID_ARGUMENT', 'INTERNAL', 'DEADLINE_EXCEEDED', 'PERMISSION_DENIED'] as const)(
    'never retries %s, even when idempotent',
    async (status) => {
      const { fn, calls } = failing(err(status));
      await settle(policy(createRetry()).execute(fn, { idempotent: true }));
      expect(calls).toHaveLength(1);
    },
  );

  it('never retries an error marked not retryable, nor an error that is not a RefrontError', async () => {
    const p = policy(createRetry());
    const marked = failing(err('UNAVAILABLE', false));
    await settle(p.execute(marked.fn, { idempotent: true }));
    expect(marked.calls).toHaveLength(1);
    const plain = failing(new TypeError('bug'));
    await settle(p.execute(plain.fn, { idempotent: true }));
    expect(plain.calls).toHaveLength(1);
  });

  it('retries only the statuses in retryOn for idempotent operations', async () => {
    const p = policy(createRetry({ retryOn: ['UNAVAILABLE', 'INTERNAL'], random: () => 0 }));
    const internal = failing(err('INTERNAL', true));
    const r1 = settle(p.execute(internal.fn, { idempotent: true }));
    await vi.advanceTimersByTimeAsync(10);
    await r1;
    expect(internal.calls).toHaveLength(3);
    const exhausted = failing(err('RESOURCE_EXHAUSTED'));
    await settle(p.execute(exhausted.fn, { idempotent: true }));
    expect(exhausted.calls).toHaveLength(1);
  });

  it('never starts a retry whose backoff would end past the deadline', async () => {
    const p = policy(createTimeout({ timeoutMs: 150 }), createRetry({ random: () => 0.99 }));
    const { fn, calls } = failing(unavailable());
    const started = Date.now();
    let settledAt = 0;
    const result = settle(p.execute(fn)).finally(() => {
      settledAt = Date.now();
    });
    await vi.advanceTimersByTimeAsync(1_000);
    const { error } = await result;
    // attempt 1 at 0 ms, backoff 99 ms ends before 150; attempt 2 at 99 ms, backoff 198 ms would end at 297.
    expect(calls).toEqual([1, 2]);
    expect(error).toMatchObject({ reason: 'TEST_DOWN' });
    expect(settledAt - started).toBe(99);
  });

  it('honours the request-context deadline without a timeout layer', async () => {
    const p = policy(createRetry({ random: () => 0.99 }));
    const logger = createLogger({ service: 'test', level: 'silent' });
    const ctx = createRequestContext({ service: 'test', logger, deadline: Date.now() + 120 });
    const { fn, calls } = failing(unavailable());
    const result = settle(runWithContext(ctx, () => p.execute(fn, { signal: new AbortController().signal })));
    await vi.advanceTimersByTimeAsync(1_000);
    await result;
    expect(calls).toEqual([1, 2]);
  });

  it("waits at least the server's retryDelayMs", async () => {
    const p = policy(createRetry({ random: () => 0 }));
    const slowDown = new RefrontError('UNAVAILABLE', 'TEST_BUSY', 'busy', { details: { retryDelayMs: 300 } });
    const { fn, calls } = failing(slowDown, 1);
    const result = p.execute(fn, { idempotent: true });
    await vi.advanceTimersByTimeAsync(299);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    await expect(result).resolves.toBe('ok');
  });

  it("stops during backoff when the caller aborts, rethrowing the caller's reason", async () => {
    const p = policy(createRetry({ random: () => 0.5 }));
    const caller = new AbortController();
    const { fn, calls } = failing(unavailable());
    const result = settle(p.execute(fn, { signal: caller.signal }));
    await vi.advanceTimersByTimeAsync(10);
    const reason = new Error('cancelled by user');
    caller.abort(reason);
    expect((await result).error).toBe(reason);
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toEqual([1]);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not retry an attempt the caller aborted', async () => {
    const p = policy(createRetry());
    const caller = new AbortController();
    let calls = 0;
    const result = settle(
      p.execute(
        ({ signal }) => {
          calls++;
          return hang(signal);
        },
        { signal: caller.signal },
      ),
    );
    caller.abort(unavailable('caller gave up'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect((await result).error).toMatchObject({ message: 'caller gave up' });
    expect(calls).toBe(1);
  });

  it('draws from the budget it is given, or from none', async () => {
    const budget = createRetryBudget({ ratio: 0, minRetriesPerSecond: 0 });
    const p = policy(createRetry({ budget, random: () => 0 }));
    const refused: unknown[] = [];
    p.events.on('retryBudgetExhausted', (e) => refused.push(e.attempt));
    const { fn, calls } = failing(unavailable());
    await settle(p.execute(fn));
    expect(calls).toHaveLength(1);
    expect(refused).toEqual([1]);

    const unbudgeted = createRetry({ budget: false, random: () => 0 });
    expect(unbudgeted.budget).toBeUndefined();
    const again = failing(unavailable());
    const result = settle(policy(unbudgeted).execute(again.fn));
    await vi.advanceTimersByTimeAsync(10);
    await result;
    expect(again.calls).toHaveLength(3);
  });

  it.each([
    { maxAttempts: 0 },
    { maxAttempts: 1.5 },
    { baseDelayMs: -1 },
    { baseDelayMs: 100, maxDelayMs: 50 },
    { retryOn: ['NOPE' as never] },
    { budget: { ratio: 2 } },
  ])('rejects %o at construction', (options) => {
    expect(() => createRetry(options)).toThrow(expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }));
  });
});
