import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { policy } from './policy.js';
import { createRetry } from './Retry.js';
import {
  createRetryBudget,
  DEFAULT_MIN_RETRIES_PER_SECOND,
  DEFAULT_RETRY_BUDGET_RATIO,
  DEFAULT_RETRY_BUDGET_WINDOW_MS,
  type RetryBudgetOptions,
} from './RetryBudget.js';
import { createTimeout } from './Timeout.js';
import { settle, unavailable } from './testing/helpers.js';

/**
 * Sends `requestsPerSecond` requests for `seconds` of fake time against a target that always
 * fails, and returns the attempts made per request.
 */
async function storm(
  budget: RetryBudgetOptions | false,
  requestsPerSecond: number,
  seconds: number,
): Promise<number> {
  let attempts = 0;
  const p = policy(
    createTimeout({ timeoutMs: 1_000 }),
    createRetry({ budget, baseDelayMs: 20, random: () => 0.5 }),
  );
  const fn = async (): Promise<never> => {
    attempts++;
    throw unavailable();
  };
  const requests = requestsPerSecond * seconds;
  const pending: Promise<unknown>[] = [];
  const gapMs = 1_000 / requestsPerSecond;
  for (let i = 0; i < requests; i++) {
    pending.push(settle(p.execute(fn)));
    await vi.advanceTimersByTimeAsync(gapMs);
  }
  await vi.advanceTimersByTimeAsync(2_000);
  await Promise.all(pending);
  return attempts / requests;
}

describe('createRetryBudget', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('has documented defaults', () => {
    expect(DEFAULT_RETRY_BUDGET_RATIO).toBe(0.2);
    expect(DEFAULT_MIN_RETRIES_PER_SECOND).toBe(10);
    expect(DEFAULT_RETRY_BUDGET_WINDOW_MS).toBe(10_000);
    expect(createRetryBudget().ratio).toBe(0.2);
  });

  it('stops a retry storm: under 100% failure, attempts per request stay within 1.1 + ratio', async () => {
    const unbudgeted = await storm(false, 200, 5);
    const budgeted = await storm({}, 200, 30);
    console.log(
      `retry storm under 100% failure: ${unbudgeted.toFixed(3)} attempts/request without a budget, ` +
        `${budgeted.toFixed(3)} with the default budget (bound ${1.1 + DEFAULT_RETRY_BUDGET_RATIO})`,
    );
    expect(unbudgeted).toBe(3);
    expect(budgeted).toBeLessThanOrEqual(1.1 + DEFAULT_RETRY_BUDGET_RATIO);
    expect(budgeted).toBeGreaterThan(1.1);
  });

  it('caps a custom ratio the same way', async () => {
    const budgeted = await storm({ ratio: 0.05, minRetriesPerSecond: 1 }, 100, 20);
    expect(budgeted).toBeLessThanOrEqual(1.1 + 0.05);
  });

  it('always allows the reserve, so a quiet client still retries', () => {
    const budget = createRetryBudget({ ratio: 0, minRetriesPerSecond: 1, windowMs: 10_000 });
    budget.recordRequest();
    for (let i = 0; i < 10; i++) expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    expect(budget.stats()).toEqual({ requests: 1, retries: 10 });
  });

  it('allows ratio × recent requests on top of the reserve', () => {
    const budget = createRetryBudget({ ratio: 0.5, minRetriesPerSecond: 0 });
    for (let i = 0; i < 10; i++) budget.recordRequest();
    let allowed = 0;
    while (budget.tryRetry()) allowed++;
    expect(allowed).toBe(5);
  });

  it('forgets requests and retries once they leave the window', () => {
    const budget = createRetryBudget({ ratio: 0.5, minRetriesPerSecond: 0, windowMs: 1_000 });
    for (let i = 0; i < 4; i++) budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
    vi.advanceTimersByTime(500);
    expect(budget.stats()).toEqual({ requests: 4, retries: 2 });
    vi.advanceTimersByTime(600);
    expect(budget.stats()).toEqual({ requests: 0, retries: 0 });
    budget.recordRequest();
    budget.recordRequest();
    expect(budget.tryRetry()).toBe(true);
    expect(budget.tryRetry()).toBe(false);
  });

  it('slides bucket by bucket', () => {
    const budget = createRetryBudget({ windowMs: 1_000 });
    budget.recordRequest();
    vi.advanceTimersByTime(500);
    budget.recordRequest();
    vi.advanceTimersByTime(550);
    expect(budget.stats().requests).toBe(1);
  });

  it.each([
    { ratio: -0.1 },
    { ratio: 1.5 },
    { minRetriesPerSecond: -1 },
    { windowMs: 5 },
    { windowMs: 100.5 },
  ])('rejects %o at construction', (options) => {
    expect(() => createRetryBudget(options)).toThrow(
      expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }),
    );
  });
});
