/** Something that ends at a deadline: a call on the client or on the server. */
export interface Expirable {
  /** Absolute deadline, ms since the epoch. */
  readonly deadline: number;
  /** The wheel's slot; managed by the wheel. */
  slot: number;
  /** Called once, at or shortly after the deadline, unless removed first. */
  expire(): void;
}

function tickWheel(wheel: DeadlineWheel): void {
  wheel.tick();
}

/** Slots scanned one by one before a tick walks the buckets instead (after a long pause or a clock jump). */
const MAX_SCAN = 1_000;

/**
 * One timer for many deadlines: entries go in buckets of `resolutionMs`, and a single interval
 * (running only while entries exist) expires whole buckets. Adding and removing a call costs a
 * Map lookup and a Set operation instead of a timer per call; an entry expires at most about
 * `resolutionMs` late and never early.
 */
export class DeadlineWheel {
  private readonly buckets = new Map<number, Set<Expirable>>();
  private count = 0;
  private next = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly resolutionMs = 10) {}

  /** Tracks `e` until it expires or is removed. */
  add(e: Expirable): void {
    if (this.timer === undefined) {
      this.next = Math.floor(Date.now() / this.resolutionMs);
      this.timer = setInterval(tickWheel, this.resolutionMs, this);
      this.timer.unref();
    }
    let slot = Math.ceil(e.deadline / this.resolutionMs);
    if (slot < this.next) slot = this.next;
    e.slot = slot;
    let bucket = this.buckets.get(slot);
    if (!bucket) {
      bucket = new Set();
      this.buckets.set(slot, bucket);
    }
    bucket.add(e);
    this.count++;
  }

  /** Stops tracking `e` (it settled first). */
  remove(e: Expirable): void {
    const bucket = this.buckets.get(e.slot);
    if (bucket?.delete(e)) {
      this.count--;
      if (bucket.size === 0) this.buckets.delete(e.slot);
    }
  }

  /** Expires every due bucket. @internal called by the interval. */
  tick(): void {
    const now = Math.floor(Date.now() / this.resolutionMs);
    if (now - this.next > MAX_SCAN) {
      for (const slot of [...this.buckets.keys()]) if (slot <= now) this.expireSlot(slot);
    } else {
      for (let s = this.next; s <= now; s++) this.expireSlot(s);
    }
    this.next = now + 1;
    if (this.count === 0) this.stop();
  }

  private expireSlot(slot: number): void {
    const bucket = this.buckets.get(slot);
    if (!bucket) return;
    this.buckets.delete(slot);
    this.count -= bucket.size;
    for (const e of bucket) e.expire();
  }

  /** Stops the timer; tracked entries are dropped without expiring. */
  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    this.buckets.clear();
    this.count = 0;
  }
}
