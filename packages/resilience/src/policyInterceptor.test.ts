import { type Call, type Interceptor, type MethodInfo, RefrontError } from '@refront/core';
import { compose } from '@refront/core/transport';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createCircuitBreakerPool } from './CircuitBreakerPool.js';
import { policy } from './policy.js';
import { policyInterceptor } from './policyInterceptor.js';
import { createRetry } from './Retry.js';
import { createTimeout } from './Timeout.js';
import { settle, unavailable } from './testing/helpers.js';

function callOf(method: Partial<MethodInfo> = {}, init: Partial<Call<string>> = {}): Call<string> {
  return {
    side: 'client',
    method: {
      service: 'refront.tickets.v1.TicketsService',
      name: 'Get',
      path: '/x/Get',
      idempotent: false,
      ...method,
    },
    request: 'req',
    metadata: {},
    deadline: undefined,
    signal: undefined,
    context: undefined,
    peer: undefined,
    ...init,
  };
}

describe('policyInterceptor', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('retries next() with a fresh call per attempt carrying its signal, deadline and target', async () => {
    const p = policy(createTimeout({ timeoutMs: 1_000 }), createRetry({ random: () => 0 }));
    const interceptor = policyInterceptor(p, {
      pickTarget: (call, attempt) => `${call.method.name}@${attempt}`,
    });
    const seen: Call<string>[] = [];
    const original = callOf({ idempotent: true });
    const started = Date.now();
    const result = interceptor(original, async (call) => {
      seen.push(call);
      if (seen.length === 1) throw unavailable();
      return 'res';
    });
    await vi.advanceTimersByTimeAsync(10);
    await expect(result).resolves.toBe('res');
    expect(seen.map((c) => c.target)).toEqual(['Get@1', 'Get@2']);
    expect(seen[0]!.signal).toBeInstanceOf(AbortSignal);
    expect(seen.map((c) => c.deadline)).toEqual([started + 1_000, started + 1_000]);
    expect(seen[0]).not.toBe(original);
    expect(original.target).toBeUndefined();
  });

  it("retries only what the method's idempotency allows", async () => {
    const p = policy(createRetry({ random: () => 0 }));
    let calls = 0;
    const next = async (): Promise<never> => {
      calls++;
      throw new RefrontError('ABORTED', 'TEST_CONFLICT', 'conflict');
    };
    await settle(policyInterceptor(p)(callOf({ idempotent: false }), next));
    expect(calls).toBe(1);
    const idem = settle(policyInterceptor(p)(callOf({ idempotent: true }), next));
    await vi.advanceTimersByTimeAsync(10);
    await idem;
    expect(calls).toBe(4);
  });

  it("keys breakers by the call's target, or its service", async () => {
    const breakers = createCircuitBreakerPool({ volumeThreshold: 1 });
    const interceptor = policyInterceptor(policy(breakers));
    const fail = async (): Promise<never> => {
      throw unavailable();
    };
    await settle(interceptor(callOf(), fail));
    await settle(interceptor(callOf({}, { target: 'tickets/10.0.0.7:50051' }), fail));
    expect(breakers.state('refront.tickets.v1.TicketsService')).toBe('open');
    expect(breakers.state('tickets/10.0.0.7:50051')).toBe('open');
    await breakers.close();
  });

  it("honours the call's own signal and deadline", async () => {
    const interceptor = policyInterceptor(policy(createTimeout()));
    const caller = new AbortController();
    const reason = new Error('stop');
    const running = settle(
      interceptor(callOf({}, { signal: caller.signal }), (call) => {
        return new Promise((_, reject) =>
          call.signal?.addEventListener('abort', () => reject(call.signal?.reason)),
        );
      }),
    );
    caller.abort(reason);
    expect((await running).error).toBe(reason);
    let deadline: number | undefined;
    await interceptor(callOf({}, { deadline: Date.now() + 50 }), async (call) => {
      deadline = call.deadline;
    });
    expect(deadline).toBe(Date.now() + 50);
  });

  it('composes with core interceptors, running where it is placed', async () => {
    const order: string[] = [];
    const tag =
      (name: string): Interceptor =>
      (call, next) => {
        order.push(name);
        return next(call);
      };
    const chain = compose(
      tag('outer'),
      policyInterceptor(policy(createRetry({ random: () => 0 }))),
      tag('inner'),
    );
    let calls = 0;
    const result = chain(callOf(), async () => {
      calls++;
      if (calls === 1) throw unavailable();
      return 'ok';
    });
    await vi.advanceTimersByTimeAsync(10);
    await expect(result).resolves.toBe('ok');
    expect(order).toEqual(['outer', 'inner', 'inner']);
  });
});
