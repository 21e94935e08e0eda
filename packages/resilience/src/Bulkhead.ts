import { ResilienceErrors, ResilienceReason, targetDetails } from './errors.js';
import { type AttemptFn, defineLayer, type Execution, type Sink, type Step } from './internal/Execution.js';
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
    return <T>(fn: AttemptFn<T>, x: Execution, sink: Sink<T>): void => {
      if (this.running < this.maxConcurrent) {
        this.running++;
        this.run(inner, fn, x, sink);
        return;
      }
      if (this.waiters.length >= this.maxQueue) {
        const error = ResilienceErrors.BULKHEAD_FULL.with(
          { details: targetDetails(x.target) },
          x.target,
          this.maxConcurrent,
          this.maxQueue,
        );
        this.events.emit({
          type: 'rejected',
          target: x.target,
          reason: ResilienceReason.BULKHEAD_FULL,
          error,
        });
        sink.fail(error);
        return;
      }
      this.wait(x.signal).then(
        () => this.run(inner, fn, x, sink),
        (e: unknown) => sink.fail(e),
      );
    };
  }

  /** Runs the inner layers in a slot taken for this execution; the slot is handed on once they end. */
  private run<T>(inner: Step, fn: AttemptFn<T>, x: Execution, sink: Sink<T>): void {
    const slot = new Slot(this, sink);
    try {
      inner(fn, x, slot);
    } catch (e: unknown) {
      slot.fail(e);
    }
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

  /** Hands the slot to the first waiter, or frees it. @internal called by {@link Slot} */
  release(): void {
    const next = this.waiters.shift();
    if (next) next.resolve();
    else this.running--;
  }
}

/** The sink of one execution holding a slot: frees the slot once, then reports outward. */
class Slot<T> implements Sink<T> {
  private held = true;

  constructor(
    private readonly bulkhead: BulkheadImpl,
    private readonly sink: Sink<T>,
  ) {}

  ok(value: T): void {
    if (!this.held) return;
    this.held = false;
    this.bulkhead.release();
    this.sink.ok(value);
  }

  fail(e: unknown): void {
    if (!this.held) return;
    this.held = false;
    this.bulkhead.release();
    this.sink.fail(e);
  }
}
