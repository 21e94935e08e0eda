import type { AttemptContext } from '@refront/core/transport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { cancelSignalOf } from './cancelSignalOf.js';
import { createDefaultPolicy } from './DefaultPolicy.js';
import { ResilienceReason } from './errors.js';
import type { ResilienceAttemptContext } from './PolicyLayer.js';
import { policy } from './policy.js';
import { createTimeout } from './Timeout.js';
import { reasonOf, settle } from './testing/helpers.js';

describe('cancelSignalOf', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("is the caller's signal for attempts of this package's policies", async () => {
    const p = createDefaultPolicy();
    const caller = new AbortController();
    let seen: AbortSignal | undefined;
    await p.execute(
      (ctx) => {
        seen = cancelSignalOf(ctx);
        return Promise.resolve('ok');
      },
      { signal: caller.signal },
    );
    expect(seen).toBe(caller.signal);
    await p.close();
  });

  it('is undefined when only the deadline can end the attempt', async () => {
    const p = policy(createTimeout({ timeoutMs: 1_000 }));
    let seen: AbortSignal | undefined | null = null;
    await p.execute((ctx) => {
      seen = cancelSignalOf(ctx);
      return Promise.resolve('ok');
    });
    expect(seen).toBeUndefined();
  });

  it('is the attempt signal for contexts made elsewhere', () => {
    const signal = new AbortController().signal;
    const ctx: AttemptContext = { signal, attempt: 1 };
    expect(cancelSignalOf(ctx)).toBe(signal);
  });

  it('leaves the timeout signal readable late: read after the timeout fired, it is already aborted', async () => {
    const p = policy(createTimeout({ timeoutMs: 50 }));
    let ctx: ResilienceAttemptContext | undefined;
    const result = settle(
      p.execute((c) => {
        ctx = c;
        return new Promise<never>(() => {});
      }),
    );
    await vi.advanceTimersByTimeAsync(50);
    const { error } = await result;
    expect(reasonOf(error)).toBe(ResilienceReason.TIMEOUT);
    expect(ctx?.signal.aborted).toBe(true);
    expect(ctx?.signal.reason).toBe(error);
  });
});
