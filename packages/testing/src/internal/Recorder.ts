import { TestingErrors } from '../errors.js';
import { realClearTimeout, realSetTimeout } from './realTimers.js';

/** Default time a `waitFor` waits, in ms of real time. */
export const DEFAULT_WAIT_MS = 10_000;

/** Items recorded in order, with waits for one that matches. */
export class Recorder<T> {
  private readonly items: T[] = [];
  private readonly waiters = new Set<(item: T) => void>();

  record(item: T): void {
    this.items.push(item);
    for (const w of [...this.waiters]) w(item);
  }

  all(): readonly T[] {
    return [...this.items];
  }

  clear(): void {
    this.items.length = 0;
  }

  /** The first item (recorded already or from now on) that `test` accepts. */
  waitFor(test: (item: T) => boolean, what: string, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    const found = this.items.find(test);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise<T>((resolve, reject) => {
      const waiter = (item: T): void => {
        if (!test(item)) return;
        this.waiters.delete(waiter);
        realClearTimeout(timer);
        resolve(item);
      };
      const timer = realSetTimeout(() => {
        this.waiters.delete(waiter);
        reject(TestingErrors.WAIT_TIMEOUT(what, timeoutMs));
      }, timeoutMs);
      this.waiters.add(waiter);
    });
  }
}
