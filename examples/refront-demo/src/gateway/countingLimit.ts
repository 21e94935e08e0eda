import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { OpenLimitStore } from './limitStore.js';

/** A count of one kind of request per key in fixed windows. */
export interface LimitSpec {
  /** Names the limit in Redis keys and in the store-errors metric (`requests`, `auth-failures`). */
  readonly name: string;
  /** Hits allowed per key per window. */
  readonly max: number;
  /** Window length in ms. */
  readonly windowMs: number;
  /** The key a request counts under (a tenant, a client address). */
  readonly key: (request: FastifyRequest) => string;
}

/** The state of one key after a hit, or as it stands. */
export interface LimitState {
  readonly max: number;
  /** Hits left in the window. */
  readonly remaining: number;
  /** Milliseconds until the window resets. */
  readonly resetMs: number;
  /** Past the limit: this hit (or the next) is refused. */
  readonly exceeded: boolean;
}

/** A limit counted by @fastify/rate-limit's store: Redis when shared, else this process's memory. */
export interface CountingLimit {
  /** Counts one hit of the request's key (one atomic increment) and returns the state after it. */
  hit(request: FastifyRequest): Promise<LimitState>;
  /** Reads the key's state without counting; `exceeded` once the key has no hits left. */
  peek(request: FastifyRequest): Promise<LimitState>;
}

type Take = ReturnType<FastifyInstance['createRateLimit']>;

/** One @fastify/rate-limit instance in its own scope (its store and parameters), as a function. */
async function registerTake(
  scope: FastifyInstance,
  spec: LimitSpec,
  store: OpenLimitStore | undefined,
): Promise<Take> {
  let take: Take | undefined;
  await scope.register(async (own) => {
    await own.register(rateLimit, {
      global: false,
      max: spec.max,
      timeWindow: spec.windowMs,
      keyGenerator: spec.key,
      // Errors reach us, so they are counted and the fallback decides (decision 0068).
      skipOnError: false,
      ...(store ? { redis: store.redis, nameSpace: `${store.keyPrefix}${spec.name}:` } : {}),
    });
    take = own.createRateLimit();
  });
  if (!take) throw new Error('@fastify/rate-limit did not decorate createRateLimit');
  return take;
}

async function stateOf(take: Take, request: FastifyRequest, increment: boolean): Promise<LimitState> {
  const r = await take(request, { increment });
  if (r.isAllowed) return { max: Number.POSITIVE_INFINITY, remaining: 1, resetMs: 0, exceeded: false };
  return {
    max: r.max,
    remaining: r.remaining,
    resetMs: r.ttl,
    exceeded: increment ? r.isExceeded : r.remaining === 0,
  };
}

/**
 * Creates a limit counted by @fastify/rate-limit: with `store`, in Redis (its Lua script
 * increments and sets the expiry in one step, so replicas never lose a count); when Redis
 * fails or is slower than the store's timeout, this process's own in-memory count decides and
 * the failure is counted and logged (`store.failed`). Without `store`, in memory only.
 *
 * @example
 * const failures = await createCountingLimit(app, { name: 'auth-failures', max: 30, windowMs: 60_000, key: (r) => r.ip }, store);
 * if ((await failures.peek(request)).exceeded) throw limited();
 */
export async function createCountingLimit(
  scope: FastifyInstance,
  spec: LimitSpec,
  store: OpenLimitStore | undefined,
): Promise<CountingLimit> {
  const local = await registerTake(scope, spec, undefined);
  const shared = store ? await registerTake(scope, spec, store) : undefined;
  const decide = async (request: FastifyRequest, increment: boolean): Promise<LimitState> => {
    if (!(shared && store)) return stateOf(local, request, increment);
    try {
      const state = await stateOf(shared, request, increment);
      store.succeeded();
      return state;
    } catch (e: unknown) {
      store.failed(spec.name, e);
      return stateOf(local, request, increment);
    }
  };
  return {
    hit: (request) => decide(request, true),
    peek: (request) => decide(request, false),
  };
}
