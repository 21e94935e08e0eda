import { describe, expect, it } from 'vitest';
import { IdTable } from './IdTable.js';

interface Entry {
  readonly id: number;
}

describe('IdTable', () => {
  it('finds, removes and forgets entries, sequential ids included', () => {
    const t = new IdTable<Entry>();
    const entries = Array.from({ length: 100 }, (_, i) => ({ id: i + 1 }));
    for (const e of entries) t.add(e);
    expect(t.size).toBe(100);
    expect(t.get(42)).toBe(entries[41]);
    expect(t.get(101)).toBeUndefined();
    expect(t.delete(42)).toBe(entries[41]);
    expect(t.delete(42)).toBeUndefined();
    expect(t.get(42)).toBeUndefined();
    for (const e of entries) t.delete(e.id);
    expect(t.size).toBe(0);
    expect(t.occupied).toBe(0);
    expect(t.capacity).toBe(16);
  });

  it('keeps colliding ids reachable when one of their run is removed (backward shift, wrap-around)', () => {
    const t = new IdTable<Entry>();
    // Capacity 16: ids 15, 31, 47 all hash to slot 15 and wrap to slots 0 and 1; 16 hashes to 0.
    const ids = [15, 31, 47, 16];
    for (const id of ids) t.add({ id });
    expect(t.capacity).toBe(16);
    expect(t.delete(31)?.id).toBe(31);
    for (const id of [15, 47, 16]) expect(t.get(id)?.id).toBe(id);
    expect(t.delete(15)?.id).toBe(15);
    for (const id of [47, 16]) expect(t.get(id)?.id).toBe(id);
    expect(t.occupied).toBe(2);
  });

  it('matches a Map under random adds and deletes, and references only the entries it holds', () => {
    const t = new IdTable<Entry>();
    const model = new Map<number, Entry>();
    let seed = 7;
    const random = (n: number): number => {
      seed = (Math.imul(seed, 1_103_515_245) + 12_345) >>> 0;
      return seed % n;
    };
    for (let step = 0; step < 20_000; step++) {
      const id = random(step < 10_000 ? 300 : 40) + 1;
      if (model.has(id)) {
        expect(t.delete(id)).toBe(model.get(id));
        model.delete(id);
      } else {
        const e = { id };
        t.add(e);
        model.set(id, e);
      }
      expect(t.size).toBe(model.size);
      expect(t.occupied).toBe(model.size);
    }
    for (const [id, e] of model) expect(t.get(id)).toBe(e);
    const kept = [...model.values()].slice(0, 3);
    for (const e of [...model.values()].slice(3)) expect(t.delete(e.id)).toBe(e);
    expect(t.capacity).toBeLessThanOrEqual(32);
    expect(new Set(t.takeAll())).toEqual(new Set(kept));
    expect(t.size).toBe(0);
    expect(t.occupied).toBe(0);
  });
});
