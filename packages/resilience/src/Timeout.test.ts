import { createLogger, createRequestContext, runWithContext } from '@refront/core';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilienceReason } from './errors.js';
import { policy } from './policy.js';
import { createTimeout, DEFAULT_TIMEOUT_MS } from './Timeout.js';
import { expectNothingPending, hang, reasonOf, settle } from './testing/helpers.js';

const logger = createLogger({ service: 'test', level: 'silent' });

describe('createTimeout', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('defaults to a 10 s timeout', async () => {
    expect(DEFAULT_TIMEOUT_MS).toBe(10_000);
    const p = policy(createTimeout());
    let seen: AbortSignal | undefined;
    const result = settle(
      p.execute(({ signal }) => {
        seen = signal;
        return hang(signal);
      }),
    );
    await vi.advanceTimersByTimeAsync(9_999);
    expect(seen?.aborted).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    const { error } = await result;
    expect(reasonOf(error)).toBe(ResilienceReason.TIMEOUT);
    expect(error).toMatchObject({ status: 'DEADLINE_EXCEEDED', retryable: false });
    expect(seen?.aborted).toBe(true);
    expect(seen?.reason).toBe(error);
  });

  it('uses the timeoutMs it is given', async () => {
    const p = policy(createTimeout({ timeoutMs: 50 }));
    const result = settle(p.execute(({ signal }) => hang(signal), { target: 'tickets' }));
    await vi.advanceTimersByTimeAsync(50);
    const { error } = await result;
    expect(reasonOf(error)).toBe(ResilienceReason.TIMEOUT);
    expect(error).toMatchObject({
      message: 'the call to tickets exceeded its deadline (50 ms)',
      details: { metadata: { target: 'tickets' } },
    });
  });

  it('lets a shorter request-context deadline win over a longer local timeout', async () => {
    const p = policy(createTimeout({ timeoutMs: 10_000 }));
    const ctx = createRequestContext({ service: 'test', logger, deadline: Date.now() + 100 });
    let deadline: number | undefined;
    const result = settle(
      runWithContext(ctx, () =>
        p.execute(
          (a) => {
            deadline = a.deadline;
            return hang(a.signal);
          },
          { signal: new AbortController().signal },
        ),
      ),
    );
    expect(deadline).toBe(ctx.deadline);
    await vi.advanceTimersByTimeAsync(100);
    expect(reasonOf((await result).error)).toBe(ResilienceReason.TIMEOUT);
  });

  it('never extends the local timeout for a longer parent deadline', async () => {
    const p = policy(createTimeout({ timeoutMs: 100 }));
    const result = settle(p.execute(({ signal }) => hang(signal), { deadline: Date.now() + 60_000 }));
    await vi.advanceTimersByTimeAsync(100);
    expect(reasonOf((await result).error)).toBe(ResilienceReason.TIMEOUT);
  });

  it("lets the call's deadline win over a longer local timeout", async () => {
    const p = policy(createTimeout({ timeoutMs: 10_000 }));
    const result = settle(p.execute(({ signal }) => hang(signal), { deadline: Date.now() + 30 }));
    await vi.advanceTimersByTimeAsync(30);
    expect(reasonOf((await result).error)).toBe(ResilienceReason.TIMEOUT);
  });

  it("rethrows the caller's abort reason unchanged and aborts the operation with it", async () => {
    const p = policy(createTimeout());
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    const result = settle(
      p.execute(
        ({ signal }) => {
          seen = signal;
          return hang(signal);
        },
        { signal: caller.signal },
      ),
    );
    const reason = new Error('user went away');
    caller.abort(reason);
    expect((await result).error).toBe(reason);
    expect(seen?.reason).toBe(reason);
    expectNothingPending();
  });

  it('does not start the operation when the signal is already aborted', async () => {
    const fn = vi.fn(() => Promise.resolve(1));
    const reason = new Error('already gone');
    const { error } = await settle(
      policy(createTimeout()).execute(fn, { signal: AbortSignal.abort(reason) }),
    );
    expect(error).toBe(reason);
    expect(fn).not.toHaveBeenCalled();
  });

  it('does not start the operation when the deadline has passed', async () => {
    const fn = vi.fn(() => Promise.resolve(1));
    const { error } = await settle(policy(createTimeout()).execute(fn, { deadline: Date.now() - 1 }));
    expect(reasonOf(error)).toBe(ResilienceReason.TIMEOUT);
    expect(fn).not.toHaveBeenCalled();
  });

  it('rejects at the deadline even when the operation ignores its signal', async () => {
    const p = policy(createTimeout({ timeoutMs: 20 }));
    const result = settle(p.execute(() => new Promise<never>(() => undefined)));
    await vi.advanceTimersByTimeAsync(20);
    expect(reasonOf((await result).error)).toBe(ResilienceReason.TIMEOUT);
  });

  it('tracks nothing and holds no process open once the operation settles', async () => {
    const p = policy(createTimeout());
    await expect(p.execute(() => Promise.resolve('ok'))).resolves.toBe('ok');
    await expect(p.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expectNothingPending();
  });

  it('with an infinite timeout enforces only the given deadlines', async () => {
    const p = policy(createTimeout({ timeoutMs: Number.POSITIVE_INFINITY }));
    let signal: AbortSignal | undefined;
    await p.execute(async (a) => {
      signal = a.signal;
      expect(a.deadline).toBeUndefined();
      expect(vi.getTimerCount()).toBe(0);
    });
    expect(signal?.aborted).toBe(false);
    const result = settle(p.execute(({ signal: s }) => hang(s), { deadline: Date.now() + 10 }));
    await vi.advanceTimersByTimeAsync(10);
    expect(reasonOf((await result).error)).toBe(ResilienceReason.TIMEOUT);
  });

  it('emits a timeout event', async () => {
    const p = policy(createTimeout({ timeoutMs: 40 }));
    const events: unknown[] = [];
    p.events.on('timeout', (e) => events.push(e));
    const result = settle(p.execute(({ signal }) => hang(signal), { target: 'billing' }));
    await vi.advanceTimersByTimeAsync(40);
    await result;
    expect(events).toEqual([{ type: 'timeout', target: 'billing', budgetMs: 40 }]);
  });

  it.each([0, -5, Number.NaN])('rejects timeoutMs %s at construction', (timeoutMs) => {
    expect(() => createTimeout({ timeoutMs })).toThrow(
      expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }),
    );
  });
});
