import { Resolver } from 'node:dns/promises';
import { CoreErrors, createLogger, type Logger, type Registry, type ServiceInstance } from '@refront/core';
import { invalidOption, type ResolveOptions } from '@refront/core/transport';
import { DiscoveryErrors } from './errors.js';
import { LatestValue } from './internal/LatestValue.js';
import { endpointId, readOnlyRegister } from './internal/readOnly.js';
import { callSignal } from './internal/registration.js';
import { sameSet, sortById } from './internal/sameInstances.js';
import { freezeInstance, isPort, validateServiceName } from './internal/validate.js';

/** The DNS record type a service is looked up by. */
export type DnsRecordType = 'A' | 'AAAA' | 'SRV';

/** How one service is found in DNS. */
export interface DnsServiceConfig {
  /** The name to look up (`tickets.default.svc.cluster.local`, or `_grpc._tcp.tickets…` for SRV). */
  readonly name: string;
  /** Record type. SRV records carry the port; A and AAAA need `port`. @default 'A' */
  readonly type?: DnsRecordType;
  /** Port of every address, for A and AAAA; not allowed with SRV. */
  readonly port?: number;
}

/** One answer of a DNS lookup: an address (or SRV target), with the SRV port, priority and weight. */
export interface DnsAnswer {
  readonly address: string;
  readonly port?: number;
  readonly priority?: number;
  readonly weight?: number;
}

/**
 * Looks up `name`. Rejects with a Node DNS error (`code` `ENOTFOUND`, `ETIMEOUT`…) on failure.
 * Tests inject one to fail deterministically.
 */
export type DnsLookup = (name: string, type: DnsRecordType) => Promise<readonly DnsAnswer[]>;

/** Options of {@link createDnsRegistry}. */
export interface DnsRegistryOptions {
  /** How each service is looked up, by service name. */
  readonly services: Readonly<Record<string, DnsServiceConfig>>;
  /** How often each looked-up service is resolved again, in ms. @default 5000 */
  readonly refreshIntervalMs?: number;
  /** The lookup function. @default node:dns `Resolver` (resolve4, resolve6, resolveSrv) */
  readonly lookup?: DnsLookup;
  /** DNS servers of the default lookup (`10.96.0.10`, `127.0.0.1:5353`). @default the system's */
  readonly servers?: readonly string[];
  /** Timeout of one query of the default lookup, in ms. @default 2000 */
  readonly queryTimeoutMs?: number;
  /** Where failed lookups are logged (warn). @default a logger for `refront-discovery` */
  readonly logger?: Logger;
}

/** Default of {@link DnsRegistryOptions.refreshIntervalMs}: CoreDNS's default TTL for cluster names. */
export const DEFAULT_DNS_REFRESH_INTERVAL_MS = 5_000;
/** Default of {@link DnsRegistryOptions.queryTimeoutMs}. */
export const DEFAULT_DNS_QUERY_TIMEOUT_MS = 2_000;

/** Codes meaning "DNS answered: there is no such record", as opposed to "DNS did not answer". */
const NO_RECORDS = new Set(['ENOTFOUND', 'ENODATA']);

function errorCode(e: unknown): string | undefined {
  const code = typeof e === 'object' && e !== null ? (e as { code?: unknown }).code : undefined;
  return typeof code === 'string' ? code : undefined;
}

function nodeLookup(
  servers: readonly string[] | undefined,
  timeoutMs: number,
): { lookup: DnsLookup; cancel(): void } {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers) resolver.setServers([...servers]);
  const lookup: DnsLookup = async (name, type) => {
    if (type === 'A') return (await resolver.resolve4(name)).map((address) => ({ address }));
    if (type === 'AAAA') return (await resolver.resolve6(name)).map((address) => ({ address }));
    return (await resolver.resolveSrv(name)).map((r) => ({
      address: r.name.replace(/\.$/, ''),
      port: r.port,
      priority: r.priority,
      weight: r.weight,
    }));
  };
  return { lookup, cancel: () => resolver.cancel() };
}

function validateServices(services: DnsRegistryOptions['services']): void {
  if (typeof services !== 'object' || services === null) throw invalidOption('services must be an object');
  for (const [service, c] of Object.entries(services)) {
    const type = c?.type ?? 'A';
    if (typeof c?.name !== 'string' || c.name === '')
      throw invalidOption(`services.${service}.name is required`);
    if (!['A', 'AAAA', 'SRV'].includes(type))
      throw invalidOption(`services.${service}.type must be A, AAAA or SRV`);
    if (type === 'SRV' && c.port !== undefined)
      throw invalidOption(`services.${service}.port: SRV records carry it`);
    if (type !== 'SRV' && !isPort(c.port))
      throw invalidOption(`services.${service}.port must be in 1..65535`);
  }
}

function toInstances(
  service: string,
  config: DnsServiceConfig,
  answers: readonly DnsAnswer[],
): ServiceInstance[] {
  return answers.map((a) => {
    const port = a.port ?? config.port ?? 0;
    const metadata: Record<string, string> = { 'dns.name': config.name };
    if (a.priority !== undefined) metadata['dns.priority'] = String(a.priority);
    if (a.weight !== undefined) metadata['dns.weight'] = String(a.weight);
    return freezeInstance({
      id: endpointId(service, a.address, port),
      service,
      address: a.address,
      port,
      metadata,
    });
  });
}

interface Tracked {
  readonly feed: LatestValue<readonly ServiceInstance[]>;
  readonly timer: NodeJS.Timeout;
  refreshing: Promise<void> | undefined;
  lastError: unknown;
}

/**
 * Creates a registry that finds services in DNS: A/AAAA records of a Kubernetes headless service
 * (one record per ready pod), or SRV records that carry ports. Each service is looked up when
 * first asked for, then again every `refreshIntervalMs`. A failed lookup keeps the last good set
 * and logs a warning; `resolve` throws only when nothing was ever resolved. `register` validates
 * and changes nothing: Kubernetes publishes pods in DNS itself.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a bad service entry or interval.
 * @example
 * const registry = createDnsRegistry({
 *   services: { tickets: { name: 'tickets.default.svc.cluster.local', port: 50051 } },
 * });
 * for await (const set of registry.watch('tickets', { signal })) balancer.update(set);
 */
export function createDnsRegistry(options: DnsRegistryOptions): Registry & AsyncDisposable {
  validateServices(options?.services);
  const refreshIntervalMs = options.refreshIntervalMs ?? DEFAULT_DNS_REFRESH_INTERVAL_MS;
  const queryTimeoutMs = options.queryTimeoutMs ?? DEFAULT_DNS_QUERY_TIMEOUT_MS;
  if (!(refreshIntervalMs > 0)) throw invalidOption('refreshIntervalMs must be > 0');
  if (!(queryTimeoutMs > 0)) throw invalidOption('queryTimeoutMs must be > 0');
  const logger = options.logger ?? createLogger({ service: 'refront-discovery' });
  const fallback = options.lookup ? undefined : nodeLookup(options.servers, queryTimeoutMs);
  const lookup = options.lookup ?? (fallback as { lookup: DnsLookup }).lookup;
  const tracked = new Map<string, Tracked>();
  const closed = new AbortController();

  const refresh = (service: string, t: Tracked, config: DnsServiceConfig): Promise<void> => {
    t.refreshing ??= (async () => {
      try {
        const answers = await lookup(config.name, config.type ?? 'A');
        t.lastError = undefined;
        t.feed.set(Object.freeze(sortById(toInstances(service, config, answers))));
      } catch (e: unknown) {
        t.lastError = e;
        const kept = t.feed.current?.length ?? 0;
        if (NO_RECORDS.has(errorCode(e) ?? '') && !t.feed.hasValue) t.feed.set(Object.freeze([]));
        logger.warn(
          { err: e, target: service, name: config.name, keptInstances: kept },
          'DNS lookup failed; keeping the last good set',
        );
      } finally {
        t.refreshing = undefined;
      }
    })();
    return t.refreshing;
  };

  const track = (service: string, config: DnsServiceConfig): Tracked => {
    let t = tracked.get(service);
    if (t) return t;
    const timer = setInterval(() => void refresh(service, t as Tracked, config), refreshIntervalMs);
    timer.unref();
    t = { feed: new LatestValue(sameSet), timer, refreshing: undefined, lastError: undefined };
    tracked.set(service, t);
    void refresh(service, t, config);
    return t;
  };

  const assertOpen = (): void => {
    if (closed.signal.aborted) throw CoreErrors.CLOSED('the DNS registry');
  };
  const close = async (): Promise<void> => {
    if (closed.signal.aborted) return;
    closed.abort();
    for (const t of tracked.values()) clearInterval(t.timer);
    fallback?.cancel();
  };

  return {
    async register(instance, registerOptions = {}) {
      assertOpen();
      return readOnlyRegister('dns', logger, instance, registerOptions);
    },
    async deregister(_instanceId: string, resolveOptions: ResolveOptions = {}) {
      assertOpen();
      resolveOptions.signal?.throwIfAborted();
    },
    async resolve(service: string, resolveOptions: ResolveOptions = {}) {
      assertOpen();
      resolveOptions.signal?.throwIfAborted();
      validateServiceName(service);
      const config = options.services[service];
      if (!config) return [];
      const t = track(service, config);
      if (!t.feed.hasValue) await (t.refreshing ?? refresh(service, t, config));
      if (t.feed.current) return t.feed.current;
      throw DiscoveryErrors.UNREACHABLE.with(
        { cause: t.lastError },
        `DNS lookup of ${config.name} failed and nothing was resolved before`,
      );
    },
    watch(service: string, resolveOptions: ResolveOptions = {}) {
      validateServiceName(service);
      const config = options.services[service];
      const signal = callSignal(closed.signal, resolveOptions.signal);
      if (!config || closed.signal.aborted) {
        const empty = new LatestValue<readonly ServiceInstance[]>(sameSet);
        empty.set([]);
        return empty.values(signal);
      }
      return track(service, config).feed.values(signal);
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
