/**
 * Holds the latest value of something that changes (an instance set) and lets any number of
 * readers iterate it. Readers are conflated: a slow reader skips to the newest value instead of
 * queueing every intermediate one, which is what a balancer wants.
 */
export class LatestValue<T> {
  private value: T | undefined;
  private version = 0;
  private readonly waiters = new Set<() => void>();

  constructor(private readonly equals: (a: T, b: T) => boolean) {}

  /** The latest value, if any was set. */
  get current(): T | undefined {
    return this.value;
  }

  /** Whether a value was ever set. */
  get hasValue(): boolean {
    return this.version > 0;
  }

  /** Sets a value; returns whether it differed from the previous one (and so woke readers). */
  set(next: T): boolean {
    if (this.version > 0 && this.equals(this.value as T, next)) return false;
    this.value = next;
    this.version += 1;
    this.wake();
    return true;
  }

  /** Wakes readers without a new value, so they re-check their signal (used on close). */
  wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** The current value once there is one, then each newer value; ends when `signal` aborts. */
  async *values(signal: AbortSignal): AsyncGenerator<T, void, undefined> {
    let seen = 0;
    while (!signal.aborted) {
      if (this.version > seen) {
        seen = this.version;
        yield this.value as T;
        continue;
      }
      await this.changed(signal);
    }
  }

  private changed(signal: AbortSignal): Promise<void> {
    return new Promise<void>((resolve) => {
      const done = () => {
        this.waiters.delete(done);
        signal.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }
}
