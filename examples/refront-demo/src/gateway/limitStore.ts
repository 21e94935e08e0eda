import { counterOf, type Logger, type MetricsRegistry } from '@refront/core';
import { invalidOption } from '@refront/core/transport';
import type { Redis } from 'ioredis';

/** Where the gateway's limits count when they are shared by every replica (decision 0068). */
export interface GatewayLimitStore {
  /** `redis://` or `rediss://` URL; every gateway using it (and the same prefix) shares one count. */
  readonly redisUrl: string;
  /** Prefix of every key, so platforms and test runs can share one Redis. @default 'refront:gateway:' */
  readonly keyPrefix?: string;
  /**
   * Longest wait for Redis per decision (and for the first connection), in ms. Past it the
   * replica's own in-memory count decides. @default DEFAULT_LIMIT_STORE_TIMEOUT_MS (100)
   */
  readonly timeoutMs?: number;
}

export const DEFAULT_LIMIT_STORE_PREFIX = 'refront:gateway:';
export const DEFAULT_LIMIT_STORE_TIMEOUT_MS = 100;
/** Counter of limit decisions that Redis could not make (so the replica's own count made them). */
export const LIMIT_STORE_ERRORS_METRIC = 'refront_gateway_limit_store_errors_total';

/** An open connection to the shared store, with its degraded/healthy state. Internal to the gateway. */
export interface OpenLimitStore {
  readonly redis: Redis;
  readonly keyPrefix: string;
  /** Records a failed decision of `limit`: counted, and logged once per outage. */
  failed(limit: string, error: unknown): void;
  /** Records a decision Redis made: logs the end of an outage. */
  succeeded(): void;
  close(): Promise<void>;
}

function checked(o: GatewayLimitStore): Required<GatewayLimitStore> {
  let url: URL;
  try {
    url = new URL(o.redisUrl);
  } catch {
    throw invalidOption(`limitStore.redisUrl must be a redis:// or rediss:// URL, got ${o.redisUrl}`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw invalidOption(`limitStore.redisUrl must be a redis:// or rediss:// URL, got ${url.protocol}`);
  const timeoutMs = o.timeoutMs ?? DEFAULT_LIMIT_STORE_TIMEOUT_MS;
  if (!(Number.isInteger(timeoutMs) && timeoutMs > 0))
    throw invalidOption(`limitStore.timeoutMs must be a positive integer, got ${timeoutMs}`);
  return { redisUrl: o.redisUrl, keyPrefix: o.keyPrefix ?? DEFAULT_LIMIT_STORE_PREFIX, timeoutMs };
}

/** Resolves once connected, or after the first failure or `timeoutMs`: a missing Redis degrades, it does not stop the gateway. */
function firstConnection(redis: Redis, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      redis.off('ready', done);
      redis.off('error', done);
      resolve();
    };
    const timer = setTimeout(done, timeoutMs);
    redis.once('ready', done);
    redis.once('error', done);
  });
}

/**
 * Connects to Redis for the shared limits: no offline queue (a command while disconnected fails
 * at once) and a command timeout, so no request waits on a missing or slow Redis.
 *
 * @throws RefrontError INVALID_ARGUMENT (CORE_INVALID_OPTION) for an unusable URL or timeout.
 */
export async function openLimitStore(
  options: GatewayLimitStore,
  logger: Logger,
  metrics: MetricsRegistry,
): Promise<OpenLimitStore> {
  const o = checked(options);
  const errors = counterOf(
    metrics,
    LIMIT_STORE_ERRORS_METRIC,
    "Limit decisions Redis did not make (down, slow or refusing); the replica's own count made them",
    ['limit'],
  );
  // Imported only when the limits are shared: a gateway without REDIS_URL never loads it (decision 0143).
  const { Redis } = await import('ioredis');
  const redis = new Redis(o.redisUrl, {
    // CLIENT LIST shows which platform's gateways are connected (names allow no spaces).
    connectionName: `refront-gateway-limits:${o.keyPrefix.replace(/[^\w:.-]/g, '_')}`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: o.timeoutMs,
    connectTimeout: Math.max(o.timeoutMs, 1_000),
    // Reconnect forever, at most every 2 s: the limits share again as soon as Redis is back.
    retryStrategy: (attempt) => Math.min(attempt * 100, 2_000),
  });
  // Connection errors are reported per decision (failed); this only keeps ioredis from printing them.
  redis.on('error', (e: unknown) => logger.debug({ err: e }, 'limit store connection error'));
  let degraded = false;
  await firstConnection(redis, Math.max(o.timeoutMs, 1_000));
  return {
    redis,
    keyPrefix: o.keyPrefix,
    failed(limit, error) {
      errors.inc({ limit });
      if (degraded) return;
      degraded = true;
      logger.warn(
        { err: error, limit },
        "rate limits degrade to this replica's own counts: the shared store (Redis) failed",
      );
    },
    succeeded() {
      if (!degraded) return;
      degraded = false;
      logger.info('rate limits are shared again: the shared store (Redis) answers');
    },
    async close() {
      if (redis.status === 'ready') await redis.quit().catch(() => redis.disconnect());
      else redis.disconnect();
    },
  };
}
