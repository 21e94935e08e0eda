import type { RefrontError } from '@refront/core';
import type { Disposable } from '@refront/core/transport';
import type { ResilienceReasonCode } from './errors.js';

/** A retry is about to wait `delayMs` and then run attempt `attempt`. */
export interface RetryEvent {
  readonly type: 'retry';
  /** The service or instance called, when known. */
  readonly target: string | undefined;
  /** The attempt about to start (2 for the first retry). */
  readonly attempt: number;
  /** The backoff before it, in ms. */
  readonly delayMs: number;
  /** The error that made the previous attempt fail. */
  readonly error: RefrontError;
}

/** A retry was allowed by status and deadline but the retry budget refused it. */
export interface RetryBudgetExhaustedEvent {
  readonly type: 'retryBudgetExhausted';
  readonly target: string | undefined;
  /** The attempt that failed and will not be retried. */
  readonly attempt: number;
  readonly error: RefrontError;
}

/** The effective deadline fired before the call finished. */
export interface TimeoutEvent {
  readonly type: 'timeout';
  readonly target: string | undefined;
  /** The time the call was given, in ms. */
  readonly budgetMs: number;
}

/** A layer refused a call without running it (open circuit, full bulkhead, rate limit). */
export interface RejectedEvent {
  readonly type: 'rejected';
  readonly target: string | undefined;
  readonly reason: ResilienceReasonCode;
  readonly error: RefrontError;
}

/** A target's circuit breaker changed state. */
export interface BreakerStateEvent {
  readonly type: 'breakerOpen' | 'breakerHalfOpen' | 'breakerClose';
  /** The breaker's key (service + instance). */
  readonly target: string;
}

/** Every event, by type. */
export interface ResilienceEventMap {
  retry: RetryEvent;
  retryBudgetExhausted: RetryBudgetExhaustedEvent;
  timeout: TimeoutEvent;
  rejected: RejectedEvent;
  breakerOpen: BreakerStateEvent & { readonly type: 'breakerOpen' };
  breakerHalfOpen: BreakerStateEvent & { readonly type: 'breakerHalfOpen' };
  breakerClose: BreakerStateEvent & { readonly type: 'breakerClose' };
}

/** Any resilience event; narrow it on `type`. */
export type ResilienceEvent = ResilienceEventMap[keyof ResilienceEventMap];

type AnyListener = (event: ResilienceEvent) => void;

/**
 * The typed events of a policy or a layer: every state change (retry, budget refusal, timeout,
 * rejection, breaker transition). Listeners run synchronously; one that throws is isolated so
 * it cannot fail the call that emitted.
 *
 * @example
 * const sub = policy.events.on('breakerOpen', (e) => alert(`${e.target} is failing`));
 * sub.dispose();
 */
export class ResilienceEvents {
  private readonly byType = new Map<keyof ResilienceEventMap, Set<AnyListener>>();
  private readonly any = new Set<AnyListener>();

  /** Calls `listener` for each event of `type` until the returned disposable is disposed. */
  on<K extends keyof ResilienceEventMap>(
    type: K,
    listener: (event: ResilienceEventMap[K]) => void,
  ): Disposable {
    let set = this.byType.get(type);
    if (!set) {
      set = new Set();
      this.byType.set(type, set);
    }
    const wrapped = listener as AnyListener;
    set.add(wrapped);
    return { dispose: () => void set.delete(wrapped) };
  }

  /** Calls `listener` for every event until the returned disposable is disposed. */
  onAny(listener: (event: ResilienceEvent) => void): Disposable {
    this.any.add(listener);
    return { dispose: () => void this.any.delete(listener) };
  }

  /** Delivers `event` to its listeners (layers call it; users rarely need to). */
  emit(event: ResilienceEvent): void {
    const set = this.byType.get(event.type);
    if (set) for (const l of set) deliver(l, event);
    for (const l of this.any) deliver(l, event);
  }
}

function deliver(listener: AnyListener, event: ResilienceEvent): void {
  try {
    listener(event);
  } catch (e: unknown) {
    // A broken listener must not turn a successful call into a failure; surface it as a warning.
    process.emitWarning(
      `a resilience event listener threw on ${event.type}: ${String(e)}`,
      'RefrontResilience',
    );
  }
}
