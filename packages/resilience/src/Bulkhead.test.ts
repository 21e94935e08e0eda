import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBulkhead, DEFAULT_MAX_CONCURRENT, DEFAULT_MAX_QUEUE } from './Bulkhead.js';
import { ResilienceReason } from './errors.js';
import { policy } from './policy.js';
import { createTimeout } from './Timeout.js';
import { reasonOf, settle } from './testing/helpers.js';

/** Operations that stay pending until released, in the order they started. */
function gate() {
  const started: string[] = [];
  const releases: (() => void)[] = [];
  const op = (name: string) => () => {
    started.push(name);
    return new Promise<string>((resolve) => releases.push(() => resolve(name)));
  };
  return { started, releases, op };
}

describe('createBulkhead', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs 100 at once and queues 50 by default, then rejects', async () => {
    expect(DEFAULT_MAX_CONCURRENT).toBe(100);
    expect(DEFAULT_MAX_QUEUE).toBe(50);
    const bulkhead = createBulkhead();
    const p = policy(bulkhead);
    const g = gate();
    const calls = Array.from({ length: 150 }, (_, i) => p.execute(g.op(String(i))));
    expect(bulkhead.running).toBe(100);
    expect(bulkhead.queued).toBe(50);
    const { error } = await settle(p.execute(g.op('overflow')));
    expect(error).toMatchObject({
      status: 'RESOURCE_EXHAUSTED',
      reason: ResilienceReason.BULKHEAD_FULL,
      retryable: false,
    });
    for (let i = 0; i < 150; i++) {
      await Promise.resolve();
      g.releases[i]?.();
      await vi.advanceTimersByTimeAsync(0);
    }
    await Promise.all(calls);
    expect(g.started).toHaveLength(150);
    expect(bulkhead.running).toBe(0);
  });

  it('rejects overflow at once instead of queueing it, and runs the queue first in, first out', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 2, maxQueue: 1 });
    const p = policy(bulkhead);
    const rejected: unknown[] = [];
    p.events.on('rejected', (e) => rejected.push(e.reason));
    const g = gate();
    const a = p.execute(g.op('a'));
    const b = p.execute(g.op('b'));
    const c = p.execute(g.op('c'));
    const d = await settle(p.execute(g.op('d'), { target: 'tickets' }));
    expect(reasonOf(d.error)).toBe(ResilienceReason.BULKHEAD_FULL);
    expect((d.error as Error).message).toContain('tickets');
    expect(rejected).toEqual([ResilienceReason.BULKHEAD_FULL]);
    expect(g.started).toEqual(['a', 'b']);
    g.releases[0]!();
    await expect(a).resolves.toBe('a');
    await vi.advanceTimersByTimeAsync(0);
    expect(g.started).toEqual(['a', 'b', 'c']);
    g.releases[1]!();
    g.releases[2]!();
    await expect(Promise.all([b, c])).resolves.toEqual(['b', 'c']);
    expect(bulkhead.running).toBe(0);
  });

  it('with maxQueue 0 rejects as soon as every slot is taken', async () => {
    const p = policy(createBulkhead({ maxConcurrent: 1, maxQueue: 0 }));
    const g = gate();
    const first = p.execute(g.op('a'));
    expect(reasonOf((await settle(p.execute(g.op('b')))).error)).toBe(ResilienceReason.BULKHEAD_FULL);
    g.releases[0]!();
    await first;
    await expect(p.execute(() => Promise.resolve('again'))).resolves.toBe('again');
  });

  it('frees the slot when the operation fails', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 0 });
    const p = policy(bulkhead);
    await settle(p.execute(() => Promise.reject(new Error('boom'))));
    await settle(
      p.execute(() => {
        throw new Error('sync boom');
      }),
    );
    expect(bulkhead.running).toBe(0);
    await expect(p.execute(() => Promise.resolve(1))).resolves.toBe(1);
  });

  it("leaves the queue when the caller aborts, with the caller's reason", async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const p = policy(bulkhead);
    const g = gate();
    const first = p.execute(g.op('a'));
    const caller = new AbortController();
    const queued = settle(p.execute(g.op('b'), { signal: caller.signal }));
    expect(bulkhead.queued).toBe(1);
    const reason = new Error('no longer needed');
    caller.abort(reason);
    expect((await queued).error).toBe(reason);
    expect(bulkhead.queued).toBe(0);
    g.releases[0]!();
    await first;
    expect(g.started).toEqual(['a']);
    expect(bulkhead.running).toBe(0);
  });

  it('is not waited on forever: a queued call fails at its deadline', async () => {
    const bulkhead = createBulkhead({ maxConcurrent: 1, maxQueue: 5 });
    const p = policy(createTimeout({ timeoutMs: 100 }), bulkhead);
    const blocker = settle(p.execute(() => new Promise<never>(() => undefined)));
    const queued = settle(p.execute(() => Promise.resolve('never runs')));
    await vi.advanceTimersByTimeAsync(100);
    expect(reasonOf((await queued).error)).toBe(ResilienceReason.TIMEOUT);
    expect(bulkhead.queued).toBe(0);
    expect(reasonOf((await blocker).error)).toBe(ResilienceReason.TIMEOUT);
  });

  it.each([{ maxConcurrent: 0 }, { maxConcurrent: 1.5 }, { maxQueue: -1 }])(
    'rejects %o at construction',
    (o) => {
      expect(() => createBulkhead(o)).toThrow(expect.objectContaining({ reason: 'CORE_INVALID_OPTION' }));
    },
  );
});
