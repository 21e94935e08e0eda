import { RefrontError } from '@refront/core';
import type { FastifyInstance } from 'fastify';
import { createCountingLimit } from './countingLimit.js';
import { GatewayReason } from './errors.js';
import type { OpenLimitStore } from './limitStore.js';
import { stateOf } from './observability.js';

/** Per-tenant request budget. */
export interface GatewayRateLimit {
  /** Requests allowed per tenant per window. */
  readonly max: number;
  /** Window length in ms. */
  readonly windowMs: number;
}

function windowText(ms: number): string {
  const unit = (n: number, name: string): string => `${n} ${name}${n === 1 ? '' : 's'}`;
  if (ms % 60_000 === 0) return unit(ms / 60_000, 'minute');
  if (ms % 1_000 === 0) return unit(ms / 1_000, 'second');
  return `${ms} ms`;
}

/**
 * Limits every route of `scope` per tenant (per client address before authentication), after
 * authentication (onRequest) and before the body is read (preParsing), so a limited request
 * costs little. Answers carry `x-ratelimit-limit`, `-remaining` and `-reset` (seconds); past
 * the limit, 429 GATEWAY_RATE_LIMITED with `Retry-After`.
 */
export async function addRequestLimit(
  scope: FastifyInstance,
  limit: GatewayRateLimit,
  store: OpenLimitStore | undefined,
): Promise<void> {
  const count = await createCountingLimit(
    scope,
    {
      name: 'requests',
      max: limit.max,
      windowMs: limit.windowMs,
      key: (request) => {
        const principal = stateOf(request)?.principal;
        return principal ? `tenant:${principal.tenant}` : `ip:${request.ip}`;
      },
    },
    store,
  );
  scope.addHook('preParsing', async (request, reply) => {
    const state = await count.hit(request);
    void reply.headers({
      'x-ratelimit-limit': state.max,
      'x-ratelimit-remaining': state.remaining,
      'x-ratelimit-reset': Math.ceil(state.resetMs / 1000),
    });
    if (!state.exceeded) return;
    const who = stateOf(request)?.principal ? 'the tenant' : 'this client';
    throw new RefrontError(
      'RESOURCE_EXHAUSTED',
      GatewayReason.RATE_LIMITED,
      `${who} made more than ${limit.max} requests in ${windowText(limit.windowMs)}`,
      { details: { retryDelayMs: state.resetMs } },
    );
  });
}
