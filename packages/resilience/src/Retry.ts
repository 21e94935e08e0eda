import { type RefrontError, type Status, toRefrontError } from '@refront/core';
import { invalidOption, isStatus, sleep } from '@refront/core/transport';
import { ResilienceReason } from './errors.js';
import { type AttemptFn, defineLayer, type Execution, type Sink, type Step } from './internal/Execution.js';
import { requireInteger, requireNumber } from './internal/validate.js';
import type { PolicyLayer } from './PolicyLayer.js';
import { ResilienceEvents } from './ResilienceEvents.js';
import { createRetryBudget, type RetryBudget, type RetryBudgetOptions } from './RetryBudget.js';

/** Total attempts, counting the first call. */
export const DEFAULT_MAX_ATTEMPTS = 3;
/** Cap of the first backoff, in ms; the cap doubles per retry. */
export const DEFAULT_BASE_DELAY_MS = 100;
/** Largest backoff cap, in ms. */
export const DEFAULT_MAX_DELAY_MS = 5_000;
/**
 * Statuses retried for idempotent operations. Any operation, idempotent or not, is retried only
 * on an error the transport marked `unprocessed` (the server provably ran no handler for it).
 */
export const DEFAULT_RETRY_ON: readonly Status[] = ['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'ABORTED'];

/** Options of {@link createRetry}. */
export interface RetryOptions {
  /** Total attempts, counting the first call. @default 3 */
  readonly maxAttempts?: number;
  /** Backoff cap of the first retry in ms; it doubles per retry up to `maxDelayMs`. @default 100 */
  readonly baseDelayMs?: number;
  /** Largest backoff cap, in ms. @default 5_000 */
  readonly maxDelayMs?: number;
  /**
   * Statuses retried when the operation is idempotent. Any operation is retried on an error marked
   * `unprocessed` (never sent, refused before dispatch, refused locally), whatever its status.
   * Either way the error must be `retryable`. @default ['UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'ABORTED']
   */
  readonly retryOn?: readonly Status[];
  /** The retry budget (a shared one, options for a new one, or false for none). @default a new budget */
  readonly budget?: RetryBudget | RetryBudgetOptions | false;
  /** Source of randomness in [0, 1) for the jitter (inject it in tests). @default Math.random */
  readonly random?: () => number;
}

/** The retry layer of a policy. */
export interface RetryLayer extends PolicyLayer {
  readonly kind: 'retry';
  /** The budget this layer draws from, or undefined when it has none. */
  readonly budget: RetryBudget | undefined;
}

/**
 * Exponential backoff with full jitter: a uniform delay in `[0, min(maxDelayMs, baseDelayMs * 2^(retry-1)))`
 * (AWS Architecture Blog, "Exponential Backoff and Jitter").
 *
 * @example
 * fullJitterDelay(2, 100, 5_000, Math.random); // somewhere in [0, 200)
 */
export function fullJitterDelay(
  retry: number,
  baseDelayMs: number,
  maxDelayMs: number,
  random: () => number,
): number {
  const cap = Math.min(maxDelayMs, baseDelayMs * 2 ** (retry - 1));
  return random() * cap;
}

/**
 * Creates the retry layer. An attempt is retried when its error is `retryable` and either the
 * transport marked it `unprocessed` (the server provably ran no handler: never sent, refused
 * before dispatch, an open breaker; any operation) or the operation is idempotent and its status
 * is in `retryOn`. So a call that is not idempotent is never retried after an UNAVAILABLE whose
 * delivery is unknown (`CORE_LOST_IN_FLIGHT`: the connection was lost after the request was
 * written, and the server may have run it; a foreign gRPC server's UNAVAILABLE); never when
 * the caller aborted or the deadline fired, never when the backoff would end past the deadline,
 * and never beyond the retry budget. A server's `details.retryDelayMs` lengthens the backoff.
 * A rejection by an open circuit breaker (`RESILIENCE_CIRCUIT_OPEN`) is retried at once and
 * outside the budget: the next attempt can pick another instance, and when every instance's
 * breaker is open the call fails in microseconds instead of waiting out the backoff.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for non-integer or < 1 `maxAttempts`, negative
 *   delays, `maxDelayMs < baseDelayMs`, or an unknown status in `retryOn`.
 * @example
 * const p = policy(createTimeout(), createRetry({ maxAttempts: 4, budget: { ratio: 0.1 } }));
 * await p.execute(({ signal }) => client.get(id, { signal }), { idempotent: true });
 */
export function createRetry(options: RetryOptions = {}): RetryLayer {
  const maxAttempts = requireInteger('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1);
  const baseDelayMs = requireNumber('baseDelayMs', options.baseDelayMs ?? DEFAULT_BASE_DELAY_MS, 0);
  const maxDelayMs = requireNumber('maxDelayMs', options.maxDelayMs ?? DEFAULT_MAX_DELAY_MS, baseDelayMs);
  const retryOn = new Set(options.retryOn ?? DEFAULT_RETRY_ON);
  for (const s of retryOn)
    if (!isStatus(s)) throw invalidOption(`retryOn has an unknown status ${String(s)}`);
  const random = options.random ?? Math.random;
  const budget = resolveBudget(options.budget);
  const events = new ResilienceEvents();
  const rules: Rules = { maxAttempts, baseDelayMs, maxDelayMs, retryOn, random, budget, events };
  const layer: RetryLayer = { kind: 'retry', budget, events, close: () => Promise.resolve() };
  return defineLayer(layer, (inner) => bindRetry(inner, rules));
}

function resolveBudget(budget: RetryOptions['budget']): RetryBudget | undefined {
  if (budget === false) return undefined;
  if (budget !== undefined && 'tryRetry' in budget) return budget;
  return createRetryBudget(budget);
}

interface Rules {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly retryOn: ReadonlySet<Status>;
  readonly random: () => number;
  readonly budget: RetryBudget | undefined;
  readonly events: ResilienceEvents;
}

function shouldRetry(error: RefrontError, idempotent: boolean, retryOn: ReadonlySet<Status>): boolean {
  if (!error.retryable) return false;
  return error.unprocessed || (idempotent && retryOn.has(error.status));
}

function bindRetry(inner: Step, r: Rules): Step {
  return <T>(fn: AttemptFn<T>, x: Execution, sink: Sink<T>): void => {
    r.budget?.recordRequest();
    x.attempt = 1;
    x.attemptTarget = undefined;
    new Attempts(inner, r, fn, x, sink).start();
  };
}

/** The attempts of one execution: runs attempt `x.attempt`, and on failure decides whether another follows. */
class Attempts<T> implements Sink<T> {
  constructor(
    private readonly inner: Step,
    private readonly r: Rules,
    private readonly fn: AttemptFn<T>,
    private readonly x: Execution,
    private readonly sink: Sink<T>,
  ) {}

  start(): void {
    try {
      this.inner(this.fn, this.x, this);
    } catch (e: unknown) {
      this.fail(e);
    }
  }

  ok(value: T): void {
    this.sink.ok(value);
  }

  fail(e: unknown): void {
    const x = this.x;
    let delayMs: number | undefined;
    try {
      delayMs = retryDelay(e, x.attempt, x, this.r);
    } catch (reason: unknown) {
      this.sink.fail(reason);
      return;
    }
    if (delayMs === undefined) {
      this.sink.fail(e);
      return;
    }
    if (delayMs === 0) {
      this.next();
      return;
    }
    sleep(delayMs, x.signal).then(
      () => this.next(),
      (reason: unknown) => this.sink.fail(reason),
    );
  }

  private next(): void {
    this.x.attempt++;
    this.x.attemptTarget = undefined;
    this.start();
  }
}

/** The backoff before the next attempt, or undefined when `e` must be thrown. Throws the abort reason. */
function retryDelay(e: unknown, attempt: number, x: Execution, r: Rules): number | undefined {
  if (x.aborted) throw x.abortReason;
  if (attempt >= r.maxAttempts) return undefined;
  const error = toRefrontError(e);
  if (!shouldRetry(error, x.idempotent, r.retryOn)) return undefined;
  const target = x.attemptTarget ?? x.target;
  if (error.reason === ResilienceReason.CIRCUIT_OPEN) {
    // An open breaker refused locally: the downstream saw nothing, so neither backoff nor budget.
    // The next attempt may pick another instance; when every breaker is open it fails as fast.
    r.events.emit({ type: 'retry', target, attempt: attempt + 1, delayMs: 0, error });
    return 0;
  }
  let delayMs = fullJitterDelay(attempt, r.baseDelayMs, r.maxDelayMs, r.random);
  const hint = error.details.retryDelayMs;
  if (hint !== undefined && hint > delayMs) delayMs = hint;
  if (Date.now() + delayMs >= x.deadline) return undefined;
  if (r.budget && !r.budget.tryRetry()) {
    r.events.emit({ type: 'retryBudgetExhausted', target, attempt, error });
    return undefined;
  }
  r.events.emit({ type: 'retry', target, attempt: attempt + 1, delayMs, error });
  return delayMs;
}
