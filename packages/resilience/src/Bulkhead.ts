import { bulkheadFullError, ResilienceReason } from './errors.js';
import { type AttemptFn, defineLayer, type Execution, type Step } from './internal/Execution.js';
import { requireInteger } from './internal/validate.js';
import type { PolicyLayer } from './PolicyLayer.js';
import { ResilienceEvents } from './ResilienceEvents.js';

/** Executions allowed to run at once. */
export const DEFAULT_MAX_CONCURRENT = 100;
/** Executions allowed to wait for a slot; more are rejected at once. */
export const DEFAULT_MAX_QUEUE = 50;

/** Options of {@link createBulkhead}. */
export interface BulkheadOptions {
  /** Executions allowed to run at once. @default 100 */
  readonly maxConcurrent?: number;
  /** Executions allowed to wait for a slot (0 for none); waiting ends at the deadline or on abort. @default 50 */
  readonly maxQueue?: number;
}

/** The bulkhead layer of a policy. */
export interface BulkheadLayer extends PolicyLayer {
  readonly kind: 'bulkhead';
  /** Executions running now. */
  readonly running: number;
  /** Executions waiting for a slot now. */
  readonly queued: number;
}

/**
 * Creates a bulkhead: at most `maxConcurrent` executions run at once, at most `maxQueue` wait
 * (first in, first out), and the next one is rejected at once with RESOURCE_EXHAUSTED
 * `RESILIENCE_BULKHEAD_FULL`, so one slow dependency cannot take every resource of the caller.
 * A waiting execution leaves the queue as soon as its signal aborts (deadline or caller).
 *
 * @throws RefrontError `CORE_INVALID_OPTION` when `maxConcurrent < 1` or `maxQueue < 0`.
 * @example
 * const p = policy(createTimeout(), createBulkhead({ maxConcurrent: 10, maxQueue: 0 }));
 */
export function createBulkhead(options: BulkheadOptions = {}): BulkheadLayer {
  const b = new BulkheadImpl(
    requireInteger('maxConcurrent', options.maxConcurrent ?? DEFAULT_MAX_CONCURRENT, 1),
    requireInteger('maxQueue', options.maxQueue ?? DEFAULT_MAX_QUEUE, 0),
  );
  return defineLayer(b, (inner) => b.bind(inner));
}

interface Waiter {
  readonly resolve: () => void;
}

class BulkheadImpl implements BulkheadLayer {
  readonly kind = 'bulkhead' as const;
  readonly events = new ResilienceEvents();
  running = 0;
  private readonly waiters: Waiter[] = [];

  constructor(
    private readonly maxConcurrent: number,
    private readonly maxQueue: number,
  ) {}

  get queued(): number {
    return this.waiters.length;
  }

  bind(inner: Step): Step {
    const release = (): void => this.release();
    // Shared by every execution: no closures per call.
    const released = (value: unknown): unknown => {
      release();
      return value;
    };
    const releasedThrow = (e: unknown): never => {
      release();
      throw e;
    };
    const run = <T>(fn: AttemptFn<T>, x: Execution): Promise<T> => {
      let p: Promise<T>;
      try {
        p = inner(fn, x);
      } catch (e: unknown) {
        release();
        return Promise.reject(e);
      }
      return p.then(released, releasedThrow) as Promise<T>;
    };
    return <T>(fn: AttemptFn<T>, x: Execution): Promise<T> => {
      if (this.running < this.maxConcurrent) {
        this.running++;
        return run(fn, x);
      }
      if (this.waiters.length >= this.maxQueue) {
        const error = bulkheadFullError(x.target, this.maxConcurrent, this.maxQueue);
        this.events.emit({
          type: 'rejected',
          target: x.target,
          reason: ResilienceReason.BULKHEAD_FULL,
          error,
        });
        return Promise.reject(error);
      }
      return this.wait(x.signal).then(() => run(fn, x));
    };
  }

  close(): Promise<void> {
    return Promise.resolve();
  }

  /** Resolves once a slot is handed over; rejects with the abort reason if the signal aborts first. */
  private wait(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => {
        const i = this.waiters.indexOf(waiter);
        if (i >= 0) this.waiters.splice(i, 1);
        reject(signal?.reason);
      };
      const waiter: Waiter = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
      };
      this.waiters.push(waiter);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }

  /** Hands the slot to the first waiter, or frees it. */
  private release(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.running--;
  }
}
