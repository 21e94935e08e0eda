import { EventEmitter } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { CoreErrors, isRefrontError, type RefrontError, type ServiceInstance } from '@refront/core';
import Consul from 'consul';
import { DiscoveryErrors } from '../errors.js';
import { freezeInstance } from './validate.js';

/** Meta keys that carry {@link ServiceInstance.version} and `zone` (Consul has no fields for them). */
export const VERSION_META = 'refront-version';
export const ZONE_META = 'refront-zone';

/** Where and how to talk to a Consul agent. */
export interface ConsulEndpoint {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
  readonly token: string | undefined;
}

/** The check to register with a service, already in Consul's units. */
export interface ConsulCheck {
  readonly checkId: string;
  readonly ttl?: string;
  readonly http?: string;
  readonly interval?: string;
  readonly timeout?: string;
  readonly deregisterCriticalServiceAfter?: string;
}

type RawResult = [IncomingMessage, unknown];
type RawCall = (opts: Record<string, unknown>) => Promise<RawResult>;

/** An error from the `consul` client (papi), as far as this code reads it. */
interface ClientError {
  readonly isCodec?: boolean;
  readonly isTimeout?: boolean;
  readonly isResponse?: boolean;
  readonly isAbort?: boolean;
  readonly response?: { readonly statusCode?: number };
  readonly message?: string;
  readonly code?: string;
}

/** Maps anything the `consul` client throws to a typed discovery error. */
export function toDiscoveryError(e: unknown, what: string): RefrontError {
  if (isRefrontError(e)) return e;
  const err = (typeof e === 'object' && e !== null ? e : {}) as ClientError;
  const detail = err.message ?? String(e);
  if (err.isCodec)
    return DiscoveryErrors.BAD_RESPONSE.with(
      { cause: e },
      `consul ${what}: the answer is not valid JSON (${detail})`,
    );
  const httpStatus = err.response?.statusCode;
  if (err.isResponse && httpStatus !== undefined) {
    if (httpStatus >= 500 || httpStatus === 429)
      return DiscoveryErrors.UNREACHABLE.with({ cause: e }, `consul ${what}: ${httpStatus} ${detail}`);
    return DiscoveryErrors.REJECTED.with(
      { cause: e, details: { metadata: { httpStatus: String(httpStatus) } } },
      `consul ${what}`,
      httpStatus,
      detail,
    );
  }
  return DiscoveryErrors.UNREACHABLE.with(
    { cause: e },
    `consul ${what}: ${err.isTimeout ? 'timed out' : detail}`,
  );
}

/**
 * Whether `e` says the agent does not know the id it was given: a `DISCOVERY_REJECTED` of HTTP
 * 404, or an older agent's 5xx whose message matches `text` ("Unknown service ID": 500 before 1.11).
 */
export function isConsulNotFound(e: unknown, text: RegExp): boolean {
  if (DiscoveryErrors.REJECTED.is(e) && e.details.metadata?.httpStatus === '404') return true;
  return isRefrontError(e) && text.test(e.message);
}

/**
 * A thin, typed layer over the `consul` client: every call is cancellable by an AbortSignal
 * (through the client's `ctx` cancel event, which aborts the HTTP request), bounded by a timeout,
 * and fails with a typed {@link RefrontError}.
 */
export class ConsulApi {
  private readonly consul: Consul;

  constructor(
    endpoint: ConsulEndpoint,
    private readonly requestTimeoutMs: number,
    private readonly closed: AbortSignal,
  ) {
    this.consul = new Consul({
      host: endpoint.host,
      port: endpoint.port,
      secure: endpoint.secure,
      ...(endpoint.token ? { defaults: { token: endpoint.token } } : {}),
    });
  }

  /** Registers (or replaces) a service with one check on the agent. */
  async registerService(instance: ServiceInstance, check: ConsulCheck, signal?: AbortSignal): Promise<void> {
    const meta: Record<string, string> = { ...instance.metadata };
    if (instance.version !== undefined) meta[VERSION_META] = instance.version;
    if (instance.zone !== undefined) meta[ZONE_META] = instance.zone;
    const body = {
      name: instance.service,
      id: instance.id,
      address: instance.address,
      port: instance.port,
      meta,
      check: {
        name: `refront ${check.ttl ? 'TTL' : 'HTTP'} check`,
        checkid: check.checkId,
        // A TTL check starts passing: register() heartbeats at once anyway, and a re-registration
        // must not flash the instance critical to every watcher.
        ...(check.ttl
          ? { ttl: check.ttl, status: 'passing' }
          : { http: check.http, interval: check.interval, timeout: check.timeout }),
        ...(check.deregisterCriticalServiceAfter
          ? { deregistercriticalserviceafter: check.deregisterCriticalServiceAfter }
          : {}),
      },
    };
    await this.call(
      this.consul.agent.service.register as unknown as RawCall,
      this.consul.agent.service,
      body,
      {
        what: `register ${instance.id}`,
        signal,
      },
    );
  }

  /** Deregisters a service; an unknown id is not an error. */
  async deregisterService(id: string, signal?: AbortSignal): Promise<void> {
    try {
      await this.call(
        this.consul.agent.service.deregister as unknown as RawCall,
        this.consul.agent.service,
        { id },
        {
          what: `deregister ${id}`,
          signal,
        },
      );
    } catch (e: unknown) {
      // Consul answers 404 (500 before 1.11) "Unknown service ID" for an id it does not know.
      if (isConsulNotFound(e, /unknown service/i)) return;
      throw e;
    }
  }

  /** Marks a TTL check passing (the heartbeat). */
  async passCheck(checkId: string, signal?: AbortSignal): Promise<void> {
    await this.call(
      this.consul.agent.check.pass as unknown as RawCall,
      this.consul.agent.check,
      { id: checkId },
      {
        what: `pass check ${checkId}`,
        signal,
      },
    );
  }

  /**
   * The instances of `service` whose checks all pass. With `index`, a blocking query: the agent
   * answers when the result changes past `index` or `waitMs` elapses.
   */
  async healthService(
    service: string,
    query: { readonly index?: bigint; readonly waitMs?: number; readonly signal?: AbortSignal },
  ): Promise<{ readonly instances: ServiceInstance[]; readonly index: bigint }> {
    const blocking = query.index !== undefined && query.waitMs !== undefined;
    const [res, body] = await this.call(
      this.consul.health.service as unknown as RawCall,
      this.consul.health,
      {
        service,
        passing: true,
        ...(blocking ? { index: String(query.index), wait: `${Math.ceil(query.waitMs as number)}ms` } : {}),
      },
      {
        what: `health of ${service}`,
        signal: query.signal,
        // Consul adds up to wait/16 of jitter to a blocking query; allow that plus a normal timeout.
        timeoutMs: blocking ? (query.waitMs as number) * 1.0625 + this.requestTimeoutMs : undefined,
      },
    );
    const index = parseIndex(res.headers['x-consul-index']);
    return { instances: parseServiceEntries(service, body), index };
  }

  /** Drops the client's keep-alive sockets. */
  destroy(): void {
    this.consul.destroy();
  }

  private async call(
    fn: RawCall,
    self: unknown,
    opts: Record<string, unknown>,
    how: {
      readonly what: string;
      readonly signal?: AbortSignal | undefined;
      readonly timeoutMs?: number | undefined;
    },
  ): Promise<RawResult> {
    const signal = how.signal ? AbortSignal.any([how.signal, this.closed]) : this.closed;
    if (this.closed.aborted) throw CoreErrors.CLOSED('the consul registry');
    signal.throwIfAborted();
    const ctx = Object.assign(new EventEmitter(), { includeResponse: true });
    const cancel = () => ctx.emit('cancel');
    signal.addEventListener('abort', cancel, { once: true });
    try {
      return await fn.call(self, { ...opts, ctx, timeout: how.timeoutMs ?? this.requestTimeoutMs });
    } catch (e: unknown) {
      if (how.signal?.aborted) throw how.signal.reason;
      if (this.closed.aborted) throw CoreErrors.CLOSED('the consul registry');
      throw toDiscoveryError(e, how.what);
    } finally {
      signal.removeEventListener('abort', cancel);
    }
  }
}

function parseIndex(header: string | string[] | undefined): bigint {
  const raw = Array.isArray(header) ? header[0] : header;
  if (raw === undefined || !/^\d+$/.test(raw)) {
    throw DiscoveryErrors.BAD_RESPONSE(
      `consul answered a blocking query without a valid X-Consul-Index (${String(raw)})`,
    );
  }
  return BigInt(raw);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Turns `/v1/health/service` entries (ServiceEntry: Node, Service, Checks) into instances,
 * keeping only those whose every check passes (the server filters with `passing` too).
 * @throws RefrontError `DISCOVERY_BAD_RESPONSE` when the body is not shaped as Consul documents.
 */
export function parseServiceEntries(service: string, body: unknown): ServiceInstance[] {
  if (!Array.isArray(body))
    throw DiscoveryErrors.BAD_RESPONSE(`consul health of ${service}: expected a list of ServiceEntry`);
  const out: ServiceInstance[] = [];
  for (const entry of body) {
    const svc = isRecord(entry) ? entry.Service : undefined;
    const node = isRecord(entry) ? entry.Node : undefined;
    const checks = isRecord(entry) ? entry.Checks : undefined;
    if (
      !isRecord(svc) ||
      typeof svc.ID !== 'string' ||
      typeof svc.Port !== 'number' ||
      !Array.isArray(checks)
    ) {
      throw DiscoveryErrors.BAD_RESPONSE(
        `consul health of ${service}: an entry lacks Service.ID, Service.Port or Checks`,
      );
    }
    if (!checks.every((c) => isRecord(c) && c.Status === 'passing')) continue;
    const nodeAddress = isRecord(node) && typeof node.Address === 'string' ? node.Address : '';
    const address = typeof svc.Address === 'string' && svc.Address !== '' ? svc.Address : nodeAddress;
    const meta: Record<string, string> = {};
    for (const [k, v] of Object.entries(isRecord(svc.Meta) ? svc.Meta : {}))
      if (typeof v === 'string') meta[k] = v;
    const version = meta[VERSION_META];
    const zone = meta[ZONE_META];
    delete meta[VERSION_META];
    delete meta[ZONE_META];
    out.push(
      freezeInstance({
        id: svc.ID,
        service: typeof svc.Service === 'string' ? svc.Service : service,
        address,
        port: svc.Port,
        metadata: meta,
        ...(version === undefined ? {} : { version }),
        ...(zone === undefined ? {} : { zone }),
      }),
    );
  }
  return out;
}
