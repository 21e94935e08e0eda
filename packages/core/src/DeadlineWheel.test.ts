import { afterEach, describe, expect, it, vi } from 'vitest';
import { DeadlineWheel, type Expirable } from './DeadlineWheel.js';

function entry(deadline: number, fired: number[]): Expirable {
  return { deadline, slot: 0, expire: () => fired.push(Date.now()) };
}

describe('DeadlineWheel', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('expires each entry once its deadline is reached, never early, in deadline order', async () => {
    vi.useFakeTimers({ now: 1_000_000 });
    const wheel = new DeadlineWheel({ resolutionMs: 1 });
    const fired: number[] = [];
    wheel.add(entry(1_000_300, fired));
    wheel.add(entry(1_000_100, fired));
    wheel.add(entry(1_000_200, fired));
    await vi.advanceTimersByTimeAsync(99);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([1_000_100]);
    await vi.advanceTimersByTimeAsync(200);
    expect(fired).toEqual([1_000_100, 1_000_200, 1_000_300]);
    expect(wheel.size).toBe(0);
  });

  it('with a coarse resolution fires at most one bucket late', async () => {
    vi.useFakeTimers({ now: 1_000_003 });
    const wheel = new DeadlineWheel({ resolutionMs: 10 });
    const fired: number[] = [];
    wheel.add(entry(1_000_051, fired));
    await vi.advanceTimersByTimeAsync(47);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(10);
    expect(fired).toHaveLength(1);
    expect(fired[0]).toBeGreaterThanOrEqual(1_000_051);
    expect(fired[0]).toBeLessThanOrEqual(1_000_061);
  });

  it('does not expire removed entries, and re-arms for an earlier entry added later', async () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel({ resolutionMs: 1 });
    const fired: number[] = [];
    const late = entry(10_000, fired);
    const removed = entry(50, fired);
    wheel.add(late);
    wheel.add(removed);
    wheel.remove(removed);
    wheel.add(entry(20, fired));
    await vi.advanceTimersByTimeAsync(100);
    expect(fired).toEqual([20]);
    wheel.remove(late);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(fired).toEqual([20]);
  });

  it('reuses the bucket of calls made close together, and leaves no emptied bucket behind', async () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel({ resolutionMs: 1 });
    const fired: number[] = [];
    // One call at a time, each settling in time, over 2 s of calls: the pattern of concurrency 1.
    for (let t = 0; t < 2_000; t++) {
      for (let i = 0; i < 3; i++) {
        const e = entry(Date.now() + 10_000, fired);
        wheel.add(e);
        wheel.remove(e);
      }
      await vi.advanceTimersByTimeAsync(1);
    }
    expect(wheel.size).toBe(0);
    expect(wheel.bucketCount).toBeLessThanOrEqual(1);
    // An entry that lands in the kept bucket still expires, on time.
    const kept = entry(Date.now() + 10_000, fired);
    wheel.add(kept);
    expect(wheel.bucketCount).toBe(1);
    await vi.advanceTimersByTimeAsync(9_999);
    expect(fired).toEqual([]);
    await vi.advanceTimersByTimeAsync(1);
    expect(fired).toEqual([kept.deadline]);
    expect(wheel.size).toBe(0);
    expect(wheel.bucketCount).toBe(0);
  });

  it('keeps one timer for many entries', () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel({ resolutionMs: 1, ref: true });
    const fired: number[] = [];
    for (let i = 0; i < 1_000; i++) wheel.add(entry(5_000 + i, fired));
    expect(vi.getTimerCount()).toBe(1);
    expect(wheel.size).toBe(1_000);
  });

  it('holds the process open (ref) only while it tracks entries', () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel({ resolutionMs: 1, ref: true });
    const e = entry(1_000, []);
    wheel.add(e);
    expect(wheel.holdsProcess).toBe(true);
    wheel.remove(e);
    expect(wheel.holdsProcess).toBe(false);
    wheel.add(entry(2_000, []));
    expect(wheel.holdsProcess).toBe(true);
    const unrefd = new DeadlineWheel({ resolutionMs: 1 });
    unrefd.add(entry(1_000, []));
    expect(unrefd.holdsProcess).toBe(false);
  });

  it('re-arms on timer functions swapped in after it armed (fake timers installed by a test)', async () => {
    const wheel = new DeadlineWheel({ resolutionMs: 1 });
    const fired: number[] = [];
    wheel.add(entry(Date.now() + 60_000, fired)); // armed on the real timers
    vi.useFakeTimers();
    wheel.add(entry(Date.now() + 120_000, fired));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fired).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(60_000);
    expect(fired).toHaveLength(2);
    wheel.stop();
  });

  it('drops every entry on stop, and works again after', async () => {
    vi.useFakeTimers({ now: 0 });
    const wheel = new DeadlineWheel({ resolutionMs: 1 });
    const fired: number[] = [];
    wheel.add(entry(10, fired));
    wheel.stop();
    expect(wheel.armed).toBe(false);
    await vi.advanceTimersByTimeAsync(50);
    expect(fired).toEqual([]);
    wheel.add(entry(100, fired));
    await vi.advanceTimersByTimeAsync(50);
    expect(fired).toEqual([100]);
  });

  it('refuses a resolution that is not positive', () => {
    expect(() => new DeadlineWheel({ resolutionMs: 0 })).toThrow(RangeError);
  });
});
