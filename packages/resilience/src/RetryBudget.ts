import { requireInteger, requireNumber, requireRange } from './internal/validate.js';

/** Share of recent requests that may be retried: 0.2 = at most one retry per five requests. */
export const DEFAULT_RETRY_BUDGET_RATIO = 0.2;
/** Retries always allowed per second, so a quiet client can still retry. */
export const DEFAULT_MIN_RETRIES_PER_SECOND = 10;
/** How far back "recent" reaches, in ms. */
export const DEFAULT_RETRY_BUDGET_WINDOW_MS = 10_000;

const BUCKETS = 10;

/** Options of {@link createRetryBudget}. */
export interface RetryBudgetOptions {
  /** Retries allowed per request in the window, on top of the reserve (0…1). @default 0.2 */
  readonly ratio?: number;
  /** Retries per second allowed whatever the traffic (the reserve). @default 10 */
  readonly minRetriesPerSecond?: number;
  /** Length of the sliding window, in ms (10 buckets). @default 10_000 */
  readonly windowMs?: number;
}

/** Counts in the current window, for tests and dashboards. */
export interface RetryBudgetStats {
  readonly requests: number;
  readonly retries: number;
}

/**
 * Caps retries to a share of recent requests, so retries cannot multiply load during an outage
 * (Finagle's RetryBudget, Envoy's retry budget; gRPC's retry throttling serves the same purpose).
 * Under 100% failure, attempts per request stay at or below `1 + ratio + reserve / requests`.
 *
 * @example
 * const budget = createRetryBudget();
 * budget.recordRequest();
 * if (budget.tryRetry()) scheduleRetry();
 */
export interface RetryBudget {
  /** The configured ratio. */
  readonly ratio: number;
  /** Records one new request (a first attempt). */
  recordRequest(): void;
  /** Takes one retry from the budget; false when the budget is spent. */
  tryRetry(): boolean;
  /** Requests and retries in the current window. */
  stats(): RetryBudgetStats;
}

/**
 * Creates a retry budget over a sliding window of 10 buckets, advanced lazily from `Date.now()`
 * (no timer). Share one budget between policies to cap their retries together.
 *
 * @throws RefrontError `CORE_INVALID_OPTION` for a ratio outside 0…1, a negative reserve or a
 *   window shorter than 10 ms.
 * @example
 * const budget = createRetryBudget({ ratio: 0.1 });
 * const p = policy(createRetry({ budget }));
 */
export function createRetryBudget(options: RetryBudgetOptions = {}): RetryBudget {
  const ratio = requireRange('ratio', options.ratio ?? DEFAULT_RETRY_BUDGET_RATIO, 0, 1);
  const minPerSecond = requireNumber(
    'minRetriesPerSecond',
    options.minRetriesPerSecond ?? DEFAULT_MIN_RETRIES_PER_SECOND,
    0,
  );
  const windowMs = requireInteger('windowMs', options.windowMs ?? DEFAULT_RETRY_BUDGET_WINDOW_MS, BUCKETS);
  return new SlidingRetryBudget(ratio, (minPerSecond * windowMs) / 1000, windowMs / BUCKETS);
}

class SlidingRetryBudget implements RetryBudget {
  private readonly requests = new Float64Array(BUCKETS);
  private readonly retries = new Float64Array(BUCKETS);
  private requestSum = 0;
  private retrySum = 0;
  private head = 0;
  private headEpoch: number;

  constructor(
    readonly ratio: number,
    private readonly reserve: number,
    private readonly bucketMs: number,
  ) {
    this.headEpoch = Math.floor(Date.now() / bucketMs);
  }

  recordRequest(): void {
    this.advance();
    this.requests[this.head]! += 1;
    this.requestSum += 1;
  }

  tryRetry(): boolean {
    this.advance();
    if (this.retrySum + 1 > this.ratio * this.requestSum + this.reserve) return false;
    this.retries[this.head]! += 1;
    this.retrySum += 1;
    return true;
  }

  stats(): RetryBudgetStats {
    this.advance();
    return { requests: this.requestSum, retries: this.retrySum };
  }

  /** Drops the buckets that fell out of the window since the last call. */
  private advance(): void {
    const epoch = Math.floor(Date.now() / this.bucketMs);
    const steps = epoch - this.headEpoch;
    if (steps <= 0) return;
    this.headEpoch = epoch;
    if (steps >= BUCKETS) {
      this.requests.fill(0);
      this.retries.fill(0);
      this.requestSum = 0;
      this.retrySum = 0;
      return;
    }
    for (let i = 0; i < steps; i++) {
      this.head = (this.head + 1) % BUCKETS;
      this.requestSum -= this.requests[this.head]!;
      this.retrySum -= this.retries[this.head]!;
      this.requests[this.head] = 0;
      this.retries[this.head] = 0;
    }
  }
}
