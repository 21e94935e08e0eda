import type { Status } from '@refront/core';
import { invalidOption, isStatus } from '@refront/core/transport';
import { DEFAULT_FAILURE_STATUSES } from './failureStatuses.js';
import { requireInteger, requireRange } from './internal/validate.js';

/** Error rate (percent of calls in the window) above which a breaker opens. */
export const DEFAULT_ERROR_THRESHOLD_PERCENTAGE = 50;
/** Calls the window must hold before the error rate can open a breaker. */
export const DEFAULT_VOLUME_THRESHOLD = 20;
/** Length of the rolling window, in ms. */
export const DEFAULT_ROLLING_WINDOW_MS = 10_000;
/** Buckets the rolling window is cut into. */
export const DEFAULT_ROLLING_BUCKETS = 10;
/** How long a breaker stays open before it lets one probe through, in ms. */
export const DEFAULT_RESET_TIMEOUT_MS = 10_000;
/** How long a breaker may go unused (and with no call in flight) before the pool drops it, in ms. */
export const DEFAULT_BREAKER_IDLE_TTL_MS = 300_000;

/** Options of `createCircuitBreakerPool`. */
export interface CircuitBreakerOptions {
  /** Error rate in percent of the window's calls above which a breaker opens (1…100). @default 50 */
  readonly errorThresholdPercentage?: number;
  /** Minimum calls in the window before a breaker may open. @default 20 */
  readonly volumeThreshold?: number;
  /** Length of the rolling window, in ms. @default 10_000 */
  readonly rollingWindowMs?: number;
  /** Buckets of the rolling window; `rollingWindowMs / rollingBuckets` is its resolution. @default 10 */
  readonly rollingBuckets?: number;
  /** Time a breaker stays open before it half-opens and lets one probe through, in ms. @default 10_000 */
  readonly resetTimeoutMs?: number;
  /** Time an unused breaker (no call in flight) is kept, in ms; then it is dropped. @default 300_000 */
  readonly idleTtlMs?: number;
  /**
   * Statuses that count as failures of the target, a fired deadline included (it counts only
   * when `DEADLINE_EXCEEDED` is listed). The balancers of the mux and gRPC channels count the same
   * (`isInstanceFailure`). @default DEFAULT_FAILURE_STATUSES
   */
  readonly failureStatuses?: readonly Status[];
}

/** @internal {@link CircuitBreakerOptions}, checked and with every default filled in. */
export interface BreakerSettings {
  readonly errorThresholdPercentage: number;
  readonly volumeThreshold: number;
  readonly rollingWindowMs: number;
  readonly rollingBuckets: number;
  readonly resetTimeoutMs: number;
  readonly idleTtlMs: number;
  readonly failureStatuses: ReadonlySet<Status>;
}

/**
 * @internal Checks `options` and fills in the defaults.
 * @throws RefrontError `CORE_INVALID_OPTION` for out-of-range thresholds, windows, durations or an
 *   unknown status.
 */
export function resolveBreakerOptions(options: CircuitBreakerOptions): BreakerSettings {
  const rollingWindowMs = requireInteger(
    'rollingWindowMs',
    options.rollingWindowMs ?? DEFAULT_ROLLING_WINDOW_MS,
    1,
  );
  const rollingBuckets = requireInteger(
    'rollingBuckets',
    options.rollingBuckets ?? DEFAULT_ROLLING_BUCKETS,
    1,
  );
  if (rollingWindowMs / rollingBuckets < 1)
    throw invalidOption('rollingWindowMs / rollingBuckets must be >= 1 ms');
  const failureStatuses = new Set(options.failureStatuses ?? DEFAULT_FAILURE_STATUSES);
  for (const s of failureStatuses) {
    if (!isStatus(s)) throw invalidOption(`failureStatuses has an unknown status ${String(s)}`);
  }
  return {
    errorThresholdPercentage: requireRange(
      'errorThresholdPercentage',
      options.errorThresholdPercentage ?? DEFAULT_ERROR_THRESHOLD_PERCENTAGE,
      1,
      100,
    ),
    volumeThreshold: requireInteger(
      'volumeThreshold',
      options.volumeThreshold ?? DEFAULT_VOLUME_THRESHOLD,
      0,
    ),
    rollingWindowMs,
    rollingBuckets,
    resetTimeoutMs: requireInteger('resetTimeoutMs', options.resetTimeoutMs ?? DEFAULT_RESET_TIMEOUT_MS, 1),
    idleTtlMs: requireInteger('idleTtlMs', options.idleTtlMs ?? DEFAULT_BREAKER_IDLE_TTL_MS, 1),
    failureStatuses,
  };
}
