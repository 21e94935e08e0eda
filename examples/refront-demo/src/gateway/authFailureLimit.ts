import { RefrontError } from '@refront/core';
import { GatewayReason } from './errors.js';

/** Failed authentications one client address may make per window before it is refused unread. */
export interface AuthFailureLimit {
  /** Failures allowed per address per window. */
  readonly max: number;
  /** Window length in ms. */
  readonly windowMs: number;
}

/** Counts failed authentications per client address (decision 0067). */
export interface AuthFailureLimiter {
  /**
   * Throws once `address` has used up its failures in the current window, before any token is
   * read, so guessing tokens costs the guesser and not the verifier.
   * @throws RefrontError RESOURCE_EXHAUSTED (GATEWAY_AUTH_FAILURES_LIMITED) with `retryDelayMs`.
   */
  check(address: string): void;
  /** Counts one failed authentication of `address`. */
  record(address: string): void;
}

/** Addresses tracked at most; past it, lapsed windows are dropped, then the oldest. */
const MAX_TRACKED = 100_000;

/**
 * Creates an in-process, fixed-window counter of failed authentications per client address.
 *
 * @example
 * const failures = createAuthFailureLimiter({ max: 30, windowMs: 60_000 });
 * failures.check(request.ip);
 * try { await auth.authenticate(h); } catch (e) { failures.record(request.ip); throw e; }
 */
export function createAuthFailureLimiter(
  limit: AuthFailureLimit,
  now: () => number = Date.now,
): AuthFailureLimiter {
  const windows = new Map<string, { count: number; resetAt: number }>();
  const prune = (t: number): void => {
    for (const [k, w] of windows) if (w.resetAt <= t) windows.delete(k);
    for (const k of windows.keys()) {
      if (windows.size < MAX_TRACKED) break;
      windows.delete(k);
    }
  };
  return {
    check(address) {
      const w = windows.get(address);
      const t = now();
      if (w === undefined || w.resetAt <= t || w.count < limit.max) return;
      throw new RefrontError(
        'RESOURCE_EXHAUSTED',
        GatewayReason.AUTH_FAILURES_LIMITED,
        `this client failed authentication more than ${limit.max} times; wait before retrying`,
        { details: { retryDelayMs: w.resetAt - t } },
      );
    },
    record(address) {
      const t = now();
      const w = windows.get(address);
      if (w !== undefined && w.resetAt > t) {
        w.count += 1;
        return;
      }
      if (windows.size >= MAX_TRACKED) prune(t);
      windows.set(address, { count: 1, resetAt: t + limit.windowMs });
    },
  };
}
