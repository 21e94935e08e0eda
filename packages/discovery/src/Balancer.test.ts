import type { ServiceInstance } from '@refront/core';
import { isRefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import {
  createBalancer,
  DEFAULT_CONSECUTIVE_FAILURES,
  DEFAULT_EJECTION_MS,
  DEFAULT_MAX_EJECTED_PERCENT,
} from './Balancer.js';

const inst = (n: number): ServiceInstance => ({
  id: `i${n}`,
  service: 's',
  address: '127.0.0.1',
  port: 1000 + n,
  metadata: {},
});
const set = (k: number) => Array.from({ length: k }, (_, i) => inst(i));

/** A seeded generator (mulberry32), so random strategies are deterministic. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

function counts(picks: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of picks) m.set(p, (m.get(p) ?? 0) + 1);
  return m;
}

function fail(balancer: ReturnType<typeof createBalancer>, id: string, times: number): void {
  for (let done = 0; done < times; ) {
    const pick = balancer.pick();
    pick.done(pick.instance.id !== id);
    if (pick.instance.id === id) done += 1;
  }
}

describe('createBalancer', () => {
  it.each(['round-robin', 'random', 'least-outstanding'] as const)(
    '%s passes over the instances to avoid while another is available',
    (strategy) => {
      const b = createBalancer({ strategy, random: seeded(7) });
      b.update(set(3));
      const picks = Array.from({ length: 300 }, () => b.pick((i) => i.id === 'i0').instance.id);
      expect(picks).not.toContain('i0');
      expect(new Set(picks)).toEqual(new Set(['i1', 'i2']));
      // When every instance is to be avoided, one is picked anyway.
      expect(['i0', 'i1', 'i2']).toContain(b.pick(() => true).instance.id);
    },
  );

  it('round-robin spreads any number of calls within ±1 of each other', () => {
    const b = createBalancer({ strategy: 'round-robin' });
    b.update(set(7));
    for (const calls of [1, 6, 7, 50, 1001]) {
      const c = counts(Array.from({ length: calls }, () => b.pick().instance.id));
      const values = set(7).map((i) => c.get(i.id) ?? 0);
      expect(Math.max(...values) - Math.min(...values)).toBeLessThanOrEqual(1);
    }
  });

  it('random picks uniformly with the injected randomness', () => {
    const b = createBalancer({ strategy: 'random', random: seeded(1) });
    b.update(set(4));
    const c = counts(Array.from({ length: 40_000 }, () => b.pick().instance.id));
    for (const i of set(4)) expect(c.get(i.id)).toBeGreaterThan(9_500);
  });

  it('least-outstanding (p2c) prefers the less loaded of two instances, and is the default', () => {
    const b = createBalancer({ random: seeded(2) });
    b.update(set(2));
    const busy = Array.from({ length: 5 }, () => b.pick());
    // Hold five calls on whichever instance got them; every new pick must go to the idle one.
    const loaded = counts(busy.map((p) => p.instance.id));
    const idle = set(2).find((i) => (loaded.get(i.id) ?? 0) < 3)?.id;
    const next = b.pick();
    expect(next.instance.id).toBe(idle);
    next.done(true);
    for (const p of busy) p.done(true);
  });

  it('least-outstanding sends fewer calls to a slow instance that holds its calls longer', () => {
    const b = createBalancer({ strategy: 'least-outstanding', random: seeded(3) });
    b.update(set(4));
    const inFlight: { pick: ReturnType<typeof b.pick>; until: number }[] = [];
    const picks: string[] = [];
    for (let t = 0; t < 4_000; t++) {
      for (const f of inFlight.filter((x) => x.until <= t)) f.pick.done(true);
      inFlight.splice(0, inFlight.length, ...inFlight.filter((x) => x.until > t));
      const pick = b.pick();
      picks.push(pick.instance.id);
      inFlight.push({ pick, until: t + (pick.instance.id === 'i0' ? 20 : 2) });
    }
    const c = counts(picks);
    expect(c.get('i0') ?? 0).toBeLessThan((c.get('i1') ?? 0) / 2);
  });

  it(`ejects an instance after ${DEFAULT_CONSECUTIVE_FAILURES} failures in a row and takes it back after ${DEFAULT_EJECTION_MS} ms`, () => {
    let now = 0;
    const b = createBalancer({ strategy: 'round-robin', now: () => now });
    b.update(set(3));
    fail(b, 'i1', DEFAULT_CONSECUTIVE_FAILURES - 1);
    expect(b.ejected()).toEqual([]);
    fail(b, 'i1', 1);
    expect(b.ejected()).toEqual(['i1']);
    const during = counts(Array.from({ length: 30 }, () => b.pick().instance.id));
    expect(during.get('i1')).toBeUndefined();
    now += DEFAULT_EJECTION_MS;
    const after = counts(Array.from({ length: 30 }, () => b.pick().instance.id));
    expect(after.get('i1')).toBe(10);
    expect(b.ejected()).toEqual([]);
  });

  it('resets the failure count on a success, so only failures in a row eject', () => {
    const b = createBalancer({ strategy: 'round-robin', outlier: { consecutiveFailures: 2 } });
    b.update(set(2));
    for (let i = 0; i < 20; i++) {
      const pick = b.pick();
      pick.done(i % 4 !== 0);
    }
    expect(b.ejected()).toEqual([]);
  });

  it('ejects for longer each time an instance is ejected again, up to maxEjectionMs', () => {
    let now = 0;
    const b = createBalancer({
      strategy: 'round-robin',
      now: () => now,
      outlier: { consecutiveFailures: 1, ejectionMs: 100, maxEjectionMs: 250 },
    });
    b.update(set(4));
    const ejectionLength = () => {
      fail(b, 'i0', 1);
      const start = now;
      while (b.ejected().includes('i0')) now += 10;
      return now - start;
    };
    expect(ejectionLength()).toBe(100);
    expect(ejectionLength()).toBe(200);
    expect(ejectionLength()).toBe(250);
    now += 10_000;
    expect(ejectionLength()).toBe(100);
  });

  it(`never ejects more than maxEjectedPercent (default ${DEFAULT_MAX_EJECTED_PERCENT}%), nor the last instance`, () => {
    const b = createBalancer({ strategy: 'round-robin', outlier: { consecutiveFailures: 1 } });
    b.update(set(4));
    for (let i = 0; i < 40; i++) b.pick().done(false);
    expect(b.ejected()).toHaveLength(2);
    const one = createBalancer({ outlier: { consecutiveFailures: 1, maxEjectedPercent: 100 } });
    one.update(set(1));
    for (let i = 0; i < 10; i++) one.pick().done(false);
    expect(one.ejected()).toEqual([]);
    const none = createBalancer({ outlier: { consecutiveFailures: 1, maxEjectedPercent: 0 } });
    none.update(set(3));
    for (let i = 0; i < 10; i++) none.pick().done(false);
    expect(none.ejected()).toEqual([]);
  });

  it('does no outlier detection when outlier is false', () => {
    const b = createBalancer({ outlier: false });
    b.update(set(2));
    for (let i = 0; i < 50; i++) b.pick().done(false);
    expect(b.ejected()).toEqual([]);
  });

  it('keeps counters and ejections across update, and uses ejected instances when nothing else is left', () => {
    const b = createBalancer({ strategy: 'round-robin', outlier: { consecutiveFailures: 1 } });
    b.update(set(3));
    fail(b, 'i2', 1);
    b.update([...set(3), inst(3)]);
    expect(b.ejected()).toEqual(['i2']);
    b.update([inst(2)]);
    expect(b.pick().instance.id).toBe('i2');
  });

  it('counts done once, however often it is called', () => {
    const b = createBalancer({ random: () => 0 });
    b.update(set(2));
    const first = b.pick();
    first.done(true);
    first.done(true);
    const held = b.pick();
    expect(b.pick().instance.id).not.toBe(held.instance.id);
  });

  it('throws DISCOVERY_NO_INSTANCES, unprocessed (nothing was sent), when there is nothing to pick', () => {
    const b = createBalancer({ service: 'tickets' });
    let e: unknown;
    try {
      b.pick();
    } catch (x: unknown) {
      e = x;
    }
    expect(isRefrontError(e) && [e.status, e.reason, e.retryable, e.unprocessed]).toEqual([
      'UNAVAILABLE',
      'DISCOVERY_NO_INSTANCES',
      true,
      true,
    ]);
    expect(isRefrontError(e) && e.message).toContain('tickets');
  });

  it('rejects an unknown strategy and bad outlier settings with CORE_INVALID_OPTION', () => {
    const reason = (f: () => unknown) => {
      try {
        f();
      } catch (e: unknown) {
        return isRefrontError(e) ? e.reason : String(e);
      }
      return 'no error';
    };
    expect(reason(() => createBalancer({ strategy: 'fastest' as never }))).toBe('CORE_INVALID_OPTION');
    expect(reason(() => createBalancer({ outlier: { consecutiveFailures: 0 } }))).toBe('CORE_INVALID_OPTION');
    expect(reason(() => createBalancer({ outlier: { ejectionMs: 0 } }))).toBe('CORE_INVALID_OPTION');
    expect(reason(() => createBalancer({ outlier: { ejectionMs: 10, maxEjectionMs: 5 } }))).toBe(
      'CORE_INVALID_OPTION',
    );
    expect(reason(() => createBalancer({ outlier: { maxEjectedPercent: 101 } }))).toBe('CORE_INVALID_OPTION');
  });
});
