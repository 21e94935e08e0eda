/** Something that ends at a deadline (a call, an execution), tracked by a {@link DeadlineWheel}. */
export interface Expirable {
  /** Absolute deadline, ms since the epoch. */
  readonly deadline: number;
  /** The wheel's slot; managed by the wheel. */
  slot: number;
  /** Called once, at or shortly after the deadline, unless removed first. */
  expire(): void;
}

const MAX_TIMER_MS = 2_147_483_647;

function fireWheel(wheel: DeadlineWheel): void {
  wheel.fire();
}

/** Options of a {@link DeadlineWheel}. */
export interface DeadlineWheelOptions {
  /** Width of a bucket, in ms: an entry expires at most about this late, never early. @default 10 */
  readonly resolutionMs?: number;
  /**
   * Whether the wheel's timer keeps the process alive while entries are tracked, as one
   * `setTimeout` per entry would. Transports whose sockets already do can leave it off. @default false
   */
  readonly ref?: boolean;
}

/**
 * One timer for many deadlines. Entries go in buckets of `resolutionMs`; one timer is armed for
 * the earliest bucket and re-armed only when an earlier one appears or when it fires. Adding and
 * removing an entry costs a Map lookup and a Set operation instead of a timer per call
 * (`setTimeout` with `clearTimeout` costs about 0.5 µs, on every call of every service). An entry
 * expires once `Date.now()` has reached its deadline, at most about `resolutionMs` later; never early.
 *
 * @example
 * const wheel = new DeadlineWheel({ resolutionMs: 1 });
 * const entry = { deadline: Date.now() + 100, slot: 0, expire: () => console.log('late') };
 * wheel.add(entry);
 * wheel.remove(entry); // settled in time
 */
export class DeadlineWheel {
  private readonly buckets = new Map<number, Set<Expirable>>();
  /** Entries tracked. */
  private count = 0;
  // The bucket of the latest add: calls made close together share a bucket, so most adds and
  // removes skip the Map, and a bucket that empties stays for the next call instead of being
  // made again (at concurrency 1 every call would otherwise create and drop a Set).
  private lastSlot = Number.NaN;
  private lastBucket: Set<Expirable> | undefined;
  private readonly resolutionMs: number;
  private readonly ref: boolean;
  private timer: NodeJS.Timeout | undefined;
  private armedSlot = Number.POSITIVE_INFINITY;
  private timerRefed = false;
  private stopped = false;
  // The timer functions the timer was armed with: tests swap in fake timers, and the wheel re-arms
  // on the new ones (a timer per entry would pick them up by itself).
  private armedWith: typeof setTimeout | undefined;
  private clearWith: typeof clearTimeout = clearTimeout;

  constructor(options: DeadlineWheelOptions = {}) {
    this.resolutionMs = options.resolutionMs ?? 10;
    if (!(this.resolutionMs > 0)) throw new RangeError('resolutionMs must be > 0');
    this.ref = options.ref ?? false;
  }

  /** Entries tracked. */
  get size(): number {
    return this.count;
  }

  /** Tracks `e` until it expires or is removed. */
  add(e: Expirable): void {
    this.stopped = false;
    const slot = Math.ceil(e.deadline / this.resolutionMs);
    e.slot = slot;
    let bucket = this.lastBucket;
    if (slot !== this.lastSlot || !bucket) {
      // The previous latest bucket was kept for reuse only: drop it if it ended up empty.
      if (bucket?.size === 0) this.buckets.delete(this.lastSlot);
      bucket = this.buckets.get(slot);
      if (!bucket) {
        bucket = new Set();
        this.buckets.set(slot, bucket);
      }
      this.lastSlot = slot;
      this.lastBucket = bucket;
    }
    bucket.add(e);
    this.count++;
    if (slot < this.armedSlot) this.arm(slot);
    else if (this.armedWith !== setTimeout) this.arm(this.earliest());
    else if (this.ref && !this.timerRefed) {
      this.timer?.ref();
      this.timerRefed = true;
    }
  }

  /** Stops tracking `e` (it settled first). */
  remove(e: Expirable): void {
    const bucket = e.slot === this.lastSlot ? this.lastBucket : this.buckets.get(e.slot);
    if (!bucket?.delete(e)) return;
    this.count--;
    if (bucket.size === 0 && bucket !== this.lastBucket) this.buckets.delete(e.slot);
    // The timer stays armed (re-arming per call would cost what the wheel saves); it only stops
    // holding the process open once nothing is tracked.
    if (this.count === 0 && this.timerRefed) {
      this.timer?.unref();
      this.timerRefed = false;
    }
  }

  /** @internal Buckets held, emptied ones included (tests check that calls leave none behind). */
  get bucketCount(): number {
    return this.buckets.size;
  }

  /** Whether the timer is armed (it may outlive the last entry, unref'd, and then fire once for nothing). */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Whether the timer currently keeps the process alive (only with `ref`, while entries are tracked). */
  get holdsProcess(): boolean {
    return this.timer !== undefined && this.timerRefed;
  }

  /** The earliest slot holding an entry (an emptied latest bucket, kept for reuse, does not count). */
  private earliest(): number {
    let next = Number.POSITIVE_INFINITY;
    for (const [slot, bucket] of this.buckets) if (slot < next && bucket.size > 0) next = slot;
    return next;
  }

  private arm(slot: number): void {
    if (this.timer !== undefined) this.clearWith(this.timer);
    this.armedWith = setTimeout;
    this.clearWith = clearTimeout;
    this.armedSlot = slot;
    // Node timers hold at most 2^31-1 ms; a later bucket re-arms when this one fires.
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, slot * this.resolutionMs - Date.now()));
    this.timer = setTimeout(fireWheel, delay, this);
    this.timerRefed = this.ref;
    if (!this.ref) this.timer.unref();
  }

  /** Expires every due bucket and re-arms for the next. @internal called by the timer. */
  fire(): void {
    this.timer = undefined;
    this.armedWith = undefined;
    this.armedSlot = Number.POSITIVE_INFINITY;
    this.timerRefed = false;
    if (this.stopped) return;
    const due = Math.floor(Date.now() / this.resolutionMs);
    const expired: Set<Expirable>[] = [];
    for (const [slot, bucket] of this.buckets) {
      if (slot <= due) {
        this.buckets.delete(slot);
        if (bucket === this.lastBucket) this.forgetLast();
        this.count -= bucket.size;
        expired.push(bucket);
      }
    }
    for (const bucket of expired) for (const e of bucket) e.expire();
    const next = this.earliest();
    if (next < this.armedSlot) this.arm(next);
  }

  /** Stops the timer; tracked entries are dropped without expiring. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) this.clearWith(this.timer);
    this.timer = undefined;
    this.armedSlot = Number.POSITIVE_INFINITY;
    this.timerRefed = false;
    this.buckets.clear();
    this.count = 0;
    this.forgetLast();
  }

  private forgetLast(): void {
    this.lastSlot = Number.NaN;
    this.lastBucket = undefined;
  }
}
