import { RefrontError } from '@refront/core';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { createCountingLimit } from './countingLimit.js';
import { GatewayReason } from './errors.js';
import type { OpenLimitStore } from './limitStore.js';

/** Failed authentications one client address may make per window before it is refused unread. */
export interface AuthFailureLimit {
  /** Failures allowed per address per window. */
  readonly max: number;
  /** Window length in ms. */
  readonly windowMs: number;
}

/** Counts failed authentications per client address (decisions 0067, 0068). */
export interface AuthFailureLimiter {
  /**
   * Throws once the request's address has used up its failures in the current window, before any
   * token is read, so guessing tokens costs the guesser and not the verifier.
   * @throws RefrontError RESOURCE_EXHAUSTED (GATEWAY_AUTH_FAILURES_LIMITED) with `retryDelayMs`.
   */
  check(request: FastifyRequest): Promise<void>;
  /** Counts one failed authentication of the request's address. */
  record(request: FastifyRequest): Promise<void>;
}

/**
 * Creates the counter of failed authentications per client address (`request.ip`, so it follows
 * `trustProxy`), on the same store as the per-tenant limit: shared through Redis when `store` is
 * given, else in this process.
 *
 * @example
 * const failures = await createAuthFailureLimiter(app, { max: 30, windowMs: 60_000 }, store);
 * await failures.check(request);
 * try { await auth.authenticate(h); } catch (e) { await failures.record(request); throw e; }
 */
export async function createAuthFailureLimiter(
  scope: FastifyInstance,
  limit: AuthFailureLimit,
  store: OpenLimitStore | undefined,
): Promise<AuthFailureLimiter> {
  const count = await createCountingLimit(
    scope,
    { name: 'auth-failures', max: limit.max, windowMs: limit.windowMs, key: (request) => request.ip },
    store,
  );
  return {
    async check(request) {
      const state = await count.peek(request);
      if (!state.exceeded) return;
      throw new RefrontError(
        'RESOURCE_EXHAUSTED',
        GatewayReason.AUTH_FAILURES_LIMITED,
        `this client failed authentication more than ${limit.max} times; wait before retrying`,
        { details: { retryDelayMs: state.resetMs } },
      );
    },
    async record(request) {
      await count.hit(request);
    },
  };
}
