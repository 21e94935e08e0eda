import type { Policy } from '@refront/core';
import type { Reply } from '@refront/core/transport';
import { describe, expect, it } from 'vitest';
import { createCircuitBreakerPool } from './CircuitBreakerPool.js';
import { createDefaultPolicy } from './DefaultPolicy.js';
import { ResilienceReason } from './errors.js';
import type { PolicyCall } from './PolicyCall.js';
import type { ResilienceAttemptContext } from './PolicyLayer.js';
import { policy, runPolicy } from './policy.js';
import { createRetry } from './Retry.js';
import { createTimeout, timeoutWheel } from './Timeout.js';
import { unavailable } from './testing/helpers.js';

/** A PolicyCall whose attempts answer as `answer` says; resolves with its outcome. */
function recordingCall(
  answer: (ctx: ResilienceAttemptContext, done: Reply) => void,
  init: { signal?: AbortSignal; deadline?: number; idempotent?: boolean; targets?: string[] } = {},
) {
  const attempts: ResilienceAttemptContext[] = [];
  const picks: number[] = [];
  let settle!: (outcome: { value?: unknown; error?: unknown }) => void;
  const outcome = new Promise<{ value?: unknown; error?: unknown }>((resolve) => {
    settle = resolve;
  });
  let outcomes = 0;
  const call: PolicyCall<unknown> = {
    signal: init.signal,
    deadline: init.deadline,
    idempotent: init.idempotent ?? false,
    target: 'svc',
    pickTarget(attempt) {
      picks.push(attempt);
      return init.targets?.[attempt - 1];
    },
    attempt(ctx, done) {
      attempts.push(ctx);
      answer(ctx, done);
    },
    ok(value) {
      outcomes++;
      settle({ value });
    },
    fail(error) {
      outcomes++;
      settle({ error });
    },
  };
  return { call, attempts, picks, outcome, outcomes: () => outcomes };
}

describe('runPolicy', () => {
  it('runs a PolicyCall through every default layer and reports its outcome once', async () => {
    const p = createDefaultPolicy();
    const r = recordingCall((_ctx, done) => setImmediate(() => done.ok('pong')));
    const deadline = Date.now() + 2_000;
    const withDeadline = recordingCall((ctx, done) => done.ok(ctx.deadline), { deadline });
    runPolicy(p, r.call);
    runPolicy(p, withDeadline.call);
    expect(await r.outcome).toEqual({ value: 'pong' });
    expect(await withDeadline.outcome).toEqual({ value: deadline });
    expect(r.attempts.map((a) => [a.attempt, a.target])).toEqual([[1, 'svc']]);
    expect(r.outcomes()).toBe(1);
    await p.close();
    expect(timeoutWheel.size).toBe(0);
    expect(timeoutWheel.holdsProcess).toBe(false);
  });

  it('retries a failed attempt on the next picked target, each guarded by its own breaker', async () => {
    const breakers = createCircuitBreakerPool();
    const p = policy(createRetry({ baseDelayMs: 0, budget: false }), breakers);
    let n = 0;
    const r = recordingCall((_ctx, done) => (n++ === 0 ? done.fail(unavailable()) : done.ok('second')), {
      targets: ['a', 'b'],
    });
    runPolicy(p, r.call);
    expect(await r.outcome).toEqual({ value: 'second' });
    expect(r.picks).toEqual([1, 2]);
    expect(r.attempts.map((a) => [a.attempt, a.target])).toEqual([
      [1, 'a'],
      [2, 'b'],
    ]);
    expect([breakers.state('a'), breakers.state('b')]).toEqual(['closed', 'closed']);
    await p.close();
  });

  it('fails with the timeout when the attempt never reports, and with the caller abort reason unchanged', async () => {
    const p = policy(createTimeout({ timeoutMs: 20 }));
    const silent = recordingCall(() => {});
    runPolicy(p, silent.call);
    const { error } = await silent.outcome;
    expect(error).toMatchObject({ status: 'DEADLINE_EXCEEDED', reason: ResilienceReason.TIMEOUT });
    const controller = new AbortController();
    const reason = new Error('caller went away');
    controller.abort(reason);
    const aborted = recordingCall(() => {}, { signal: controller.signal });
    runPolicy(p, aborted.call);
    expect(await aborted.outcome).toEqual({ error: reason });
    expect(aborted.attempts).toHaveLength(0);
    expect(silent.outcomes() + aborted.outcomes()).toBe(2);
    await p.close();
  });

  it('counts an attempt that throws as its failure', async () => {
    const p = policy(createRetry({ maxAttempts: 1 }));
    const thrown = new Error('attempt threw');
    const r = recordingCall(() => {
      throw thrown;
    });
    runPolicy(p, r.call);
    expect(await r.outcome).toEqual({ error: thrown });
    await p.close();
  });

  it('runs a PolicyCall under any other Policy through its execute, with the same outcome', async () => {
    const seen: unknown[] = [];
    const foreign: Policy = {
      execute: (fn, options) => {
        seen.push(options);
        return fn({ signal: new AbortController().signal, attempt: 1 });
      },
    };
    const r = recordingCall((ctx, done) => done.ok(`attempt ${ctx.attempt}`), { idempotent: true });
    runPolicy(foreign, r.call);
    expect(await r.outcome).toEqual({ value: 'attempt 1' });
    expect(seen[0]).toMatchObject({ idempotent: true, target: 'svc' });
    const failing = recordingCall((_ctx, done) => done.fail(unavailable()));
    runPolicy(foreign, failing.call);
    expect((await failing.outcome).error).toMatchObject({ status: 'UNAVAILABLE' });
  });
});
