import { CoreErrors, createLogger, type Logger, type Registry, type ServiceInstance } from '@refront/core';
import {
  invalidOption,
  type RegisterOptions,
  type Registration,
  type ResolveOptions,
} from '@refront/core/transport';
import { invalidInstance } from './errors.js';
import { ConsulApi, type ConsulCheck, type ConsulEndpoint, isConsulNotFound } from './internal/consulApi.js';
import { createRegistration } from './internal/registration.js';
import { sameSet, sortById } from './internal/sameInstances.js';
import { backoffDelay, goDuration, sleep } from './internal/timing.js';
import {
  DEFAULT_HTTP_CHECK_TIMEOUT_MS,
  freezeInstance,
  type ResolvedRegisterOptions,
  validateRegistration,
  validateServiceName,
} from './internal/validate.js';

/** Options of {@link createConsulRegistry}. */
export interface ConsulRegistryOptions {
  /** Agent address as `CONSUL_HTTP_ADDR` writes it (`127.0.0.1:8500`, `https://consul:8501`); not with host/port. */
  readonly url?: string;
  /** Agent host. @default '127.0.0.1' */
  readonly host?: string;
  /** Agent HTTP port. @default 8500 */
  readonly port?: number;
  /** ACL token, sent as `X-Consul-Token`. @default none */
  readonly token?: string;
  /** Longest a watch's blocking query waits for a change, in ms (Consul caps it at 10 min). @default 30000 */
  readonly waitMs?: number;
  /** Timeout of every non-blocking request, in ms. @default 5000 */
  readonly requestTimeoutMs?: number;
  /** First delay before a failed watch query is retried, in ms; doubles per failure. @default 200 */
  readonly retryBaseDelayMs?: number;
  /** Longest delay between watch retries, in ms. @default 10000 */
  readonly retryMaxDelayMs?: number;
  /** Where heartbeat and watch failures are logged (warn). @default a logger for `refront-discovery` */
  readonly logger?: Logger;
  /** Source of randomness for retry jitter, in [0, 1). @default Math.random */
  readonly random?: () => number;
}

/** Default agent host. */
export const DEFAULT_CONSUL_HOST = '127.0.0.1';
/** Default agent HTTP port. */
export const DEFAULT_CONSUL_PORT = 8500;
/** Default of {@link ConsulRegistryOptions.waitMs}. */
export const DEFAULT_CONSUL_WAIT_MS = 30_000;
/** Default of {@link ConsulRegistryOptions.requestTimeoutMs}. */
export const DEFAULT_CONSUL_REQUEST_TIMEOUT_MS = 5_000;
/** Default of {@link ConsulRegistryOptions.retryBaseDelayMs}. */
export const DEFAULT_CONSUL_RETRY_BASE_DELAY_MS = 200;
/** Default of {@link ConsulRegistryOptions.retryMaxDelayMs}. */
export const DEFAULT_CONSUL_RETRY_MAX_DELAY_MS = 10_000;

const META_KEY = /^[A-Za-z0-9_-]{1,128}$/;

function endpointOf(options: ConsulRegistryOptions): ConsulEndpoint {
  const token = options.token;
  if (options.url === undefined) {
    const port = options.port ?? DEFAULT_CONSUL_PORT;
    if (!Number.isInteger(port) || port < 1 || port > 65_535) throw invalidOption('port must be in 1..65535');
    return { host: options.host ?? DEFAULT_CONSUL_HOST, port, secure: false, token };
  }
  if (options.host !== undefined || options.port !== undefined)
    throw invalidOption('give url or host/port, not both');
  const raw = /^[a-z]+:\/\//i.test(options.url) ? options.url : `http://${options.url}`;
  if (!URL.canParse(raw)) throw invalidOption(`url is not an address: ${options.url}`);
  const url = new URL(raw);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalidOption('url must be http or https');
  const secure = url.protocol === 'https:';
  const port = url.port === '' ? (secure ? 443 : DEFAULT_CONSUL_PORT) : Number(url.port);
  return { host: url.hostname.replace(/^\[|\]$/g, ''), port, secure, token };
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw invalidOption(`${name} must be a positive number of ms`);
  return value;
}

function consulCheck(instance: ServiceInstance, options: ResolvedRegisterOptions): ConsulCheck {
  const after = options.deregisterCriticalAfterMs;
  const reap = Number.isFinite(after) ? { deregisterCriticalServiceAfter: goDuration(after) } : {};
  const checkId = `service:${instance.id}`;
  const { check } = options;
  if (check.kind === 'ttl') return { checkId, ttl: goDuration(check.ttlMs), ...reap };
  return {
    checkId,
    http: check.url,
    interval: goDuration(check.intervalMs),
    timeout: goDuration(check.timeoutMs ?? DEFAULT_HTTP_CHECK_TIMEOUT_MS),
    ...reap,
  };
}

function validateMeta(instance: ServiceInstance): void {
  const bad = Object.keys(instance.metadata).filter((k) => !META_KEY.test(k) || k.startsWith('consul-'));
  if (bad.length > 0) {
    throw invalidInstance(
      bad.map((k) => ({
        field: `metadata.${k}`,
        description: 'Consul meta keys are [A-Za-z0-9_-], not consul-*',
      })),
    );
  }
}

/** A registration this registry keeps alive (TTL heartbeat) until deregistered or closed. */
interface Live {
  readonly instance: ServiceInstance;
  readonly check: ConsulCheck;
  timer: NodeJS.Timeout | undefined;
  beating: boolean;
}

/**
 * Creates a registry on a Consul agent, through the `consul` npm client. `register` adds an agent
 * service with a TTL or HTTP check (TTL heartbeats every ttl/3; an instance the agent has lost
 * is registered again); `resolve` asks `/v1/health/service` with `passing`; `watch` runs blocking
 * queries (`index` + `wait`), retries failures with jittered backoff while keeping the last good
 * set, survives an agent restart (an index that goes backwards resets to 0) and ends on abort.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a bad address or duration.
 * @example
 * await using registry = createConsulRegistry({ url: process.env.CONSUL_HTTP_ADDR });
 * await using registration = await registry.register(
 *   { id: 'tickets-1', service: 'tickets', address: '10.0.0.7', port: 50051, metadata: {} },
 *   { check: { kind: 'ttl', ttlMs: 10_000 }, deregisterCriticalAfterMs: 60_000 },
 * );
 */
export function createConsulRegistry(options: ConsulRegistryOptions = {}): Registry & AsyncDisposable {
  const endpoint = endpointOf(options);
  const waitMs = positive('waitMs', options.waitMs ?? DEFAULT_CONSUL_WAIT_MS);
  if (waitMs > 600_000) throw invalidOption('waitMs must be at most 600000 (Consul caps wait at 10 min)');
  const requestTimeoutMs = positive(
    'requestTimeoutMs',
    options.requestTimeoutMs ?? DEFAULT_CONSUL_REQUEST_TIMEOUT_MS,
  );
  const retryBaseMs = positive(
    'retryBaseDelayMs',
    options.retryBaseDelayMs ?? DEFAULT_CONSUL_RETRY_BASE_DELAY_MS,
  );
  const retryMaxMs = positive(
    'retryMaxDelayMs',
    options.retryMaxDelayMs ?? DEFAULT_CONSUL_RETRY_MAX_DELAY_MS,
  );
  const logger = options.logger ?? createLogger({ service: 'refront-discovery' });
  const random = options.random ?? Math.random;
  const closed = new AbortController();
  const api = new ConsulApi(endpoint, requestTimeoutMs, closed.signal);
  const live = new Map<string, Live>();
  let closing: Promise<void> | undefined;

  const assertOpen = (): void => {
    if (closed.signal.aborted) throw CoreErrors.CLOSED('the consul registry');
  };

  const stop = (entry: Live): void => {
    clearInterval(entry.timer);
    entry.timer = undefined;
    if (live.get(entry.instance.id) === entry) live.delete(entry.instance.id);
  };

  const beat = async (entry: Live): Promise<void> => {
    if (entry.beating || entry.timer === undefined) return;
    entry.beating = true;
    try {
      await api.passCheck(entry.check.checkId);
    } catch (e: unknown) {
      if (CoreErrors.CLOSED.is(e)) return;
      // The agent lost the check (restarted without state, or reaped us while we were stalled).
      const lost = isConsulNotFound(e, /unknown check/i);
      logger.warn({ err: e, instanceId: entry.instance.id, reregister: lost }, 'consul heartbeat failed');
      if (lost && entry.timer !== undefined) await reregister(entry);
    } finally {
      entry.beating = false;
    }
  };

  const reregister = async (entry: Live): Promise<void> => {
    try {
      await api.registerService(entry.instance, entry.check);
      await api.passCheck(entry.check.checkId);
    } catch (e: unknown) {
      logger.warn(
        { err: e, instanceId: entry.instance.id },
        'consul re-registration failed; retrying next beat',
      );
    }
  };

  async function register(
    instance: ServiceInstance,
    registerOptions: RegisterOptions = {},
  ): Promise<Registration> {
    assertOpen();
    registerOptions.signal?.throwIfAborted();
    const resolved = validateRegistration(instance, registerOptions);
    validateMeta(instance);
    const frozen = freezeInstance(instance);
    const check = consulCheck(frozen, resolved);
    const previous = live.get(frozen.id);
    if (previous) stop(previous);
    await api.registerService(frozen, check, registerOptions.signal);
    const entry: Live = { instance: frozen, check, timer: undefined, beating: false };
    if (resolved.check.kind === 'ttl') {
      // Pass at once so the instance is resolvable when register() returns, then every ttl/3.
      await api.passCheck(check.checkId, registerOptions.signal);
      entry.timer = setInterval(() => void beat(entry), resolved.check.ttlMs / 3);
      entry.timer.unref();
    }
    live.set(frozen.id, entry);
    return createRegistration(frozen, async () => {
      const wasLive = live.get(frozen.id) === entry;
      stop(entry);
      if (wasLive && !closed.signal.aborted) await api.deregisterService(frozen.id);
    });
  }

  async function* watch(service: string, signal: AbortSignal): AsyncGenerator<readonly ServiceInstance[]> {
    let index = 0n;
    let last: readonly ServiceInstance[] | undefined;
    let failures = 0;
    while (!signal.aborted) {
      try {
        const answer = await api.healthService(service, { index, waitMs, signal });
        failures = 0;
        // Consul's rules for blocking queries: an index that goes backwards (a restarted agent or
        // a new leader) resets to 0; an index below 1 is treated as 1 so we never spin.
        index = answer.index < index ? 0n : answer.index < 1n ? 1n : answer.index;
        const set = Object.freeze(sortById(answer.instances));
        if (last === undefined || !sameSet(last, set)) {
          last = set;
          yield set;
        }
      } catch (e: unknown) {
        if (signal.aborted) return;
        failures += 1;
        const delayMs = backoffDelay(failures, retryBaseMs, retryMaxMs, random);
        logger.warn(
          {
            err: e,
            target: service,
            failures,
            retryInMs: Math.round(delayMs),
            keptInstances: last?.length ?? 0,
          },
          'consul watch query failed; keeping the last good set',
        );
        await sleep(delayMs, signal);
      }
    }
  }

  const close = (): Promise<void> => {
    closing ??= (async () => {
      const entries = [...live.values()];
      for (const entry of entries) stop(entry);
      await Promise.allSettled(entries.map((e) => api.deregisterService(e.instance.id)));
      closed.abort();
      api.destroy();
    })();
    return closing;
  };

  return {
    register,
    async deregister(instanceId: string, resolveOptions: ResolveOptions = {}) {
      assertOpen();
      const entry = live.get(instanceId);
      if (entry) stop(entry);
      await api.deregisterService(instanceId, resolveOptions.signal);
    },
    async resolve(service: string, resolveOptions: ResolveOptions = {}) {
      assertOpen();
      validateServiceName(service);
      const { instances } = await api.healthService(service, { signal: resolveOptions.signal });
      return Object.freeze(sortById(instances));
    },
    watch(service: string, resolveOptions: ResolveOptions = {}) {
      validateServiceName(service);
      const signal = resolveOptions.signal
        ? AbortSignal.any([resolveOptions.signal, closed.signal])
        : closed.signal;
      return watch(service, signal);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
