/** An entry of an {@link IdTable}: its key is its own request id. */
export interface HasId {
  readonly id: number;
}

const MIN_CAPACITY = 16;

/**
 * The calls in flight on one connection, by request id: an open-addressing table (linear probing,
 * deletion by backward shift) over one array whose slot is emptied when its call ends.
 *
 * A `Map` with one set and one delete per call does not let go of ended calls: once its table is
 * full of deleted entries V8 rehashes it into a new one, and the old, obsolete table keeps its
 * entries and a pointer to the new table (for iterators). When one table of that chain has reached
 * the old generation (any full GC promotes the current one), every later table and every call it
 * held survives the scavenges until the next full GC: each call's whole object graph (reply
 * target, request, metadata, span, policy state) was promoted. Here an ended call is referenced
 * from nowhere, and the array is replaced only when the number in flight doubles or shrinks.
 * Ids are sequential, so `id & mask` spreads the calls in flight without collisions.
 */
export class IdTable<T extends HasId> {
  private slots: (T | undefined)[] = new Array<T | undefined>(MIN_CAPACITY).fill(undefined);
  private mask = MIN_CAPACITY - 1;
  private count = 0;

  /** Entries held. */
  get size(): number {
    return this.count;
  }

  /** @internal Slots of the table (tests check that it shrinks back). */
  get capacity(): number {
    return this.slots.length;
  }

  /** @internal Slots that reference an entry, counted by a scan (tests check that ended calls leave none). */
  get occupied(): number {
    let n = 0;
    for (const e of this.slots) if (e !== undefined) n++;
    return n;
  }

  /** The entry with request id `id`, if held. */
  get(id: number): T | undefined {
    const slots = this.slots;
    const mask = this.mask;
    for (let i = id & mask; ; i = (i + 1) & mask) {
      const e = slots[i];
      if (e === undefined || e.id === id) return e;
    }
  }

  /** Adds `e`; its id must not be held already. */
  add(e: T): void {
    if ((this.count + 1) * 2 > this.slots.length) this.resize(this.slots.length * 2);
    this.place(e);
    this.count++;
  }

  /** Removes the entry with request id `id`; returns it, or undefined when none was held. */
  delete(id: number): T | undefined {
    const slots = this.slots;
    const mask = this.mask;
    let i = id & mask;
    let e = slots[i];
    while (e !== undefined && e.id !== id) {
      i = (i + 1) & mask;
      e = slots[i];
    }
    if (e === undefined) return undefined;
    // Backward shift: move up each later entry of the run that may live in the freed slot.
    for (let j = (i + 1) & mask; ; j = (j + 1) & mask) {
      const next = slots[j];
      if (next === undefined) break;
      const home = next.id & mask;
      if (j > i ? home <= i || home > j : home <= i && home > j) {
        slots[i] = next;
        i = j;
      }
    }
    slots[i] = undefined;
    this.count--;
    if (this.count * 8 < slots.length && slots.length > MIN_CAPACITY) this.resize(slots.length / 2);
    return e;
  }

  /** Removes every entry and returns them. */
  takeAll(): T[] {
    const all: T[] = [];
    for (const e of this.slots) if (e !== undefined) all.push(e);
    this.slots = new Array<T | undefined>(MIN_CAPACITY).fill(undefined);
    this.mask = MIN_CAPACITY - 1;
    this.count = 0;
    return all;
  }

  private place(e: T): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = e.id & mask;
    while (slots[i] !== undefined) i = (i + 1) & mask;
    slots[i] = e;
  }

  private resize(capacity: number): void {
    const old = this.slots;
    this.slots = new Array<T | undefined>(capacity).fill(undefined);
    this.mask = capacity - 1;
    for (const e of old) if (e !== undefined) this.place(e);
  }
}
