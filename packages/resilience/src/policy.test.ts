import { createLogger, createRequestContext, RefrontError, runWithContext } from '@refront/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBulkhead } from './Bulkhead.js';
import { createCircuitBreakerPool } from './CircuitBreakerPool.js';
import { ResilienceReason } from './errors.js';
import { LAYER_ORDER, type PolicyLayer } from './PolicyLayer.js';
import { policy, type ResiliencePolicy } from './policy.js';
import { createRateLimit } from './RateLimit.js';
import { createRetry } from './Retry.js';
import { createTimeout } from './Timeout.js';
import { expectNothingPending, hang, reasonOf, settle, unavailable } from './testing/helpers.js';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('policy', () => {
  let p: ResiliencePolicy | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(async () => {
    await p?.close();
    p = undefined;
    vi.useRealTimers();
  });

  it('composes in the documented order whatever the argument order', () => {
    expect(LAYER_ORDER).toEqual(['timeout', 'rateLimit', 'bulkhead', 'retry', 'circuitBreaker']);
    p = policy(
      createCircuitBreakerPool(),
      createRetry(),
      createBulkhead(),
      createRateLimit({ ratePerSecond: 10 }),
      createTimeout(),
    );
    expect(p.layers).toEqual(LAYER_ORDER);
  });

  it('holds one bulkhead slot and one rate token across all retries of an execution', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const rate = createRateLimit({ ratePerSecond: 1, burst: 2 });
    p = policy(createRetry({ random: () => 0.5 }), bulkhead, rate);
    let calls = 0;
    const first = settle(
      p.execute(async () => {
        calls++;
        throw unavailable();
      }),
    );
    await vi.advanceTimersByTimeAsync(60);
    expect(calls).toBe(2);
    expect(bulkhead.running).toBe(1);
    // The rate limiter runs before the bulkhead: this call takes the second token, then finds no slot.
    expect(reasonOf((await settle(p.execute(() => Promise.resolve(1)))).error)).toBe(
      ResilienceReason.BULKHEAD_FULL,
    );
    await vi.advanceTimersByTimeAsync(1_000);
    await first;
    expect(calls).toBe(3);
    expect(rate.tryAcquire()).toBe(0);
    expect(rate.tryAcquire()).toBeGreaterThan(0);
  });

  it('passes every attempt through the breaker, so retries count against the target', async () => {
    const breakers = createCircuitBreakerPool({ volumeThreshold: 3 });
    p = policy(breakers, createRetry({ random: () => 0 }));
    const result = settle(p.execute(() => Promise.reject(unavailable()), { target: 'tickets' }));
    await vi.advanceTimersByTimeAsync(10);
    expect((await result).error).toMatchObject({ reason: 'TEST_DOWN' });
    expect(breakers.state('tickets')).toBe('open');
    const fn = vi.fn(() => Promise.resolve(1));
    const failFast = settle(p.execute(fn, { target: 'tickets' }));
    await vi.advanceTimersByTimeAsync(10);
    expect(reasonOf((await failFast).error)).toBe(ResilienceReason.CIRCUIT_OPEN);
    expect(fn).not.toHaveBeenCalled();
  });

  it('gives each attempt its number, target and deadline', async () => {
    p = policy(createTimeout({ timeoutMs: 1_000 }), createRetry({ random: () => 0 }));
    const seen: unknown[] = [];
    const now = Date.now();
    const result = p.execute(
      async ({ attempt, target, deadline, signal }) => {
        seen.push({ attempt, target, deadline, aborted: signal.aborted });
        if (attempt < 2) throw unavailable();
        return 'ok';
      },
      { target: 'tickets', pickTarget: (n) => `tickets/${n}` },
    );
    await vi.advanceTimersByTimeAsync(10);
    await expect(result).resolves.toBe('ok');
    expect(seen).toEqual([
      { attempt: 1, target: 'tickets/1', deadline: now + 1_000, aborted: false },
      { attempt: 2, target: 'tickets/2', deadline: now + 1_000, aborted: false },
    ]);
  });

  it('without layers runs the operation once with a signal that never aborts', async () => {
    p = policy();
    expect(p.layers).toEqual([]);
    await expect(
      p.execute(async ({ signal, attempt, target, deadline }) => ({
        aborted: signal.aborted,
        attempt,
        target,
        deadline,
      })),
    ).resolves.toEqual({ aborted: false, attempt: 1, target: undefined, deadline: undefined });
  });

  describe('cancellation propagates through every layer', () => {
    const full = () => {
      const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 1 });
      p = policy(
        createTimeout(),
        createRateLimit({ ratePerSecond: 100 }),
        bulkhead,
        createRetry({ random: () => 0.5 }),
        createCircuitBreakerPool(),
      );
      return { p, bulkhead };
    };

    it('aborts the running attempt with the caller reason', async () => {
      const { p } = full();
      const caller = new AbortController();
      let attemptSignal: AbortSignal | undefined;
      const result = settle(
        p.execute(
          ({ signal }) => {
            attemptSignal = signal;
            return hang(signal);
          },
          { signal: caller.signal, target: 'tickets' },
        ),
      );
      const reason = new Error('caller aborted');
      caller.abort(reason);
      expect((await result).error).toBe(reason);
      expect(attemptSignal?.reason).toBe(reason);
    });

    it('stops the backoff between attempts', async () => {
      const { p } = full();
      const caller = new AbortController();
      let calls = 0;
      const result = settle(
        p.execute(
          async () => {
            calls++;
            throw unavailable();
          },
          { signal: caller.signal },
        ),
      );
      await vi.advanceTimersByTimeAsync(10);
      const reason = new Error('caller aborted in backoff');
      caller.abort(reason);
      expect((await result).error).toBe(reason);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(calls).toBe(1);
    });

    it('takes a queued execution out of the bulkhead', async () => {
      const { p, bulkhead } = full();
      const blocker = new AbortController();
      const running = settle(p.execute(({ signal }) => hang(signal), { signal: blocker.signal }));
      const caller = new AbortController();
      const fn = vi.fn(() => Promise.resolve(1));
      const queued = settle(p.execute(fn, { signal: caller.signal }));
      expect(bulkhead.queued).toBe(1);
      const reason = new Error('caller aborted in queue');
      caller.abort(reason);
      expect((await queued).error).toBe(reason);
      expect(bulkhead.queued).toBe(0);
      blocker.abort(new Error('done'));
      await running;
      expect(fn).not.toHaveBeenCalled();
    });

    it('aborts at the deadline with RESILIENCE_TIMEOUT and leaves no timer behind', async () => {
      const { p } = full();
      let attemptSignal: AbortSignal | undefined;
      const result = settle(
        p.execute(({ signal }) => {
          attemptSignal = signal;
          return hang(signal);
        }),
      );
      await vi.advanceTimersByTimeAsync(10_000);
      const { error } = await result;
      expect(reasonOf(error)).toBe(ResilienceReason.TIMEOUT);
      expect(attemptSignal?.reason).toBe(error);
      await p.close();
      expectNothingPending();
    });

    it("follows the request context's signal when no signal is given", async () => {
      full();
      const cancel = new AbortController();
      const ctx = createRequestContext({ service: 'test', logger, cancel: cancel.signal });
      let attemptSignal: AbortSignal | undefined;
      const result = settle(
        runWithContext(ctx, () =>
          p!.execute(({ signal }) => {
            attemptSignal = signal;
            return hang(signal);
          }),
        ),
      );
      const reason = new Error('inbound request cancelled');
      cancel.abort(reason);
      expect((await result).error).toBe(reason);
      expect(attemptSignal?.aborted).toBe(true);
    });
  });

  it('returns the fallback for a failure, with the error as a RefrontError', async () => {
    p = policy(createRetry({ maxAttempts: 1 }));
    const fallback = vi.fn((e: RefrontError) => `cached (${e.reason})`);
    await expect(p.execute(() => Promise.reject(unavailable()), { fallback })).resolves.toBe(
      'cached (TEST_DOWN)',
    );
    await expect(p.execute(() => Promise.reject(new Error('bug')), { fallback })).resolves.toBe(
      'cached (CORE_INTERNAL)',
    );
    await expect(p.execute(() => Promise.resolve('fresh'), { fallback })).resolves.toBe('fresh');
    expect(fallback).toHaveBeenCalledTimes(2);
  });

  it("does not fall back when the caller aborted, and rethrows the caller's reason", async () => {
    p = policy(createTimeout());
    const caller = new AbortController();
    const fallback = vi.fn(() => 'cached');
    const result = settle(p.execute(({ signal }) => hang(signal), { signal: caller.signal, fallback }));
    const reason = new Error('gone');
    caller.abort(reason);
    expect((await result).error).toBe(reason);
    expect(fallback).not.toHaveBeenCalled();
  });

  it('forwards every layer event until closed', async () => {
    const breakers = createCircuitBreakerPool({ volumeThreshold: 1 });
    p = policy(breakers);
    const seen: string[] = [];
    p.events.onAny((e) => seen.push(e.type));
    await settle(p.execute(() => Promise.reject(unavailable()), { target: 'a' }));
    expect(seen).toEqual(['breakerOpen']);
    await p.close();
    await p.close();
    breakers.events.emit({ type: 'breakerClose', target: 'a' });
    expect(seen).toEqual(['breakerOpen']);
  });

  it('rejects two layers of one kind, or a layer it did not make', () => {
    expect(() => policy(createRetry(), createRetry())).toThrow(
      expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }),
    );
    const foreign = {
      kind: 'retry',
      events: createRetry().events,
      close: () => Promise.resolve(),
    } as PolicyLayer;
    expect(() => policy(foreign)).toThrow(expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }));
  });

  it('turns an operation that throws synchronously into a rejection', async () => {
    p = policy(createRetry());
    const { error } = await settle(
      p.execute(() => {
        throw new RefrontError('NOT_FOUND', 'TEST_NOT_FOUND', 'nope');
      }),
    );
    expect(reasonOf(error)).toBe('TEST_NOT_FOUND');
  });
});
