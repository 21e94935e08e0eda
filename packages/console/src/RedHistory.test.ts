import { describe, expect, it } from 'vitest';
import { RedHistory } from './RedHistory.js';
import type { RedRow } from './red.js';

const row = (count: number, errors: number, meanMs: number): RedRow => ({
  kind: 'rpc',
  scope: 'refront.tickets.v1.TicketsService',
  name: 'CreateTicket',
  count,
  errors,
  meanMs,
  p95Ms: 0,
});

describe('RedHistory', () => {
  it('turns cumulative samples into per-interval rate, error rate and mean', () => {
    const h = new RedHistory();
    h.record('tickets', [row(10, 0, 5)], 0);
    expect(h.points('tickets', row(0, 0, 0))).toEqual([]);
    // 20 more calls in 5 s, 5 of them failed, taking 200 ms in all: a mean of 10 ms.
    h.record('tickets', [row(30, 5, (10 * 5 + 200) / 30)], 5_000);
    const [p] = h.points('tickets', row(0, 0, 0));
    expect(p?.at).toBe(5_000);
    expect(p?.rate).toBeCloseTo(4);
    expect(p?.errorRate).toBeCloseTo(1);
    expect(p?.meanMs).toBeCloseTo(10);
    expect(h.points('other', row(0, 0, 0))).toEqual([]);
  });

  it('counts a series that first appears in a later sample from zero', () => {
    const h = new RedHistory();
    h.record('t', [], 0);
    h.record('t', [row(6, 2, 1)], 2_000);
    expect(h.points('t', row(0, 0, 0)).map((p) => [p.rate, p.errorRate])).toEqual([[3, 1]]);
  });

  it('keeps the last `capacity` points of each series', () => {
    const h = new RedHistory({ capacity: 3 });
    for (let i = 0; i <= 10; i++) h.record('t', [row(i * 2, 0, 1)], i * 1_000);
    expect(h.points('t', row(0, 0, 0)).map((p) => p.at)).toEqual([8_000, 9_000, 10_000]);
  });

  it('starts a series again when its counter goes down (the process restarted)', () => {
    const h = new RedHistory();
    h.record('t', [row(10, 0, 1)], 0);
    h.record('t', [row(20, 0, 1)], 1_000);
    h.record('t', [row(3, 0, 1)], 2_000);
    expect(h.points('t', row(0, 0, 0))).toEqual([]);
    h.record('t', [row(5, 0, 1)], 3_000);
    expect(h.points('t', row(0, 0, 0)).map((p) => p.rate)).toEqual([2]);
  });
});
