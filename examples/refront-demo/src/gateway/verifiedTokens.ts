import { LRUCache } from 'lru-cache';
import type { Principal } from './auth.js';

/** Longest a verified token is answered from the cache before it is verified again, in seconds. */
export const VERIFIED_TOKEN_MAX_AGE_SEC = 300;
/** Tokens kept verified by default (a few MB at most). */
export const DEFAULT_VERIFIED_TOKEN_CACHE_SIZE = 4_096;

/**
 * The principals of tokens verified recently, keyed by the whole token string (decision 0142):
 * the same bytes carry the same signature and claims, so only the clock can change the outcome.
 * An entry answers until the token expires (with the clock tolerance jose allows) or
 * {@link VERIFIED_TOKEN_MAX_AGE_SEC} after its verification, whichever is first; the least
 * recently used entries go first when it is full. Failures are never kept.
 */
export interface VerifiedTokens {
  /** The principal of `token` if it verified recently and is still within its time. */
  get(token: string, nowSec: number): Principal | undefined;
  /** Keeps `principal` for `token`, verified at `nowSec`, expiring at `expSec`. */
  set(token: string, principal: Principal, expSec: number, nowSec: number): void;
}

interface Entry {
  readonly principal: Principal;
  /** Seconds since the epoch from which the entry no longer answers. */
  readonly untilSec: number;
}

/**
 * Creates the cache of verified tokens, holding at most `size` tokens; 0 keeps none.
 * `toleranceSec` is the clock tolerance of the verification (a token is accepted until
 * `exp + toleranceSec`, as jose accepts it).
 *
 * @example
 * const verified = createVerifiedTokens(4096, CLOCK_TOLERANCE_SEC);
 * const hit = verified.get(token, Math.floor(Date.now() / 1000));
 */
export function createVerifiedTokens(size: number, toleranceSec: number): VerifiedTokens {
  if (size === 0) return { get: () => undefined, set: () => {} };
  const cache = new LRUCache<string, Entry>({ max: size });
  return {
    get(token, nowSec) {
      const entry = cache.get(token);
      if (entry === undefined) return undefined;
      if (nowSec < entry.untilSec) return entry.principal;
      cache.delete(token);
      return undefined;
    },
    set(token, principal, expSec, nowSec) {
      const untilSec = Math.min(expSec + toleranceSec, nowSec + VERIFIED_TOKEN_MAX_AGE_SEC);
      if (untilSec > nowSec) cache.set(token, { principal, untilSec });
    },
  };
}
