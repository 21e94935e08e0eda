import type { ServiceInstance } from '@refront/core';
import { CoreErrors, createLogger, type Logger, type Registry } from '@refront/core';
import { invalidOption, type ResolveOptions } from '@refront/core/transport';
import { LatestValue } from './internal/LatestValue.js';
import { endpointId, readOnlyRegister } from './internal/readOnly.js';
import { callSignal } from './internal/registration.js';
import { sameSet, sortById } from './internal/sameInstances.js';
import { freezeInstance, isPort, validateServiceName } from './internal/validate.js';

/** One fixed endpoint of a service, as written in config. */
export interface StaticEndpoint {
  /** Host name or IP address. */
  readonly address: string;
  /** Port of the request server. */
  readonly port: number;
  /** Instance id. @default `<service>-<address>:<port>` */
  readonly id?: string;
  /** Version the endpoint runs. */
  readonly version?: string;
  /** Availability zone. */
  readonly zone?: string;
  /** Free-form facts. @default {} */
  readonly metadata?: Readonly<Record<string, string>>;
}

/** Options of {@link createStaticRegistry}. */
export interface StaticRegistryOptions {
  /** The endpoints of each service, by service name. */
  readonly services: Readonly<Record<string, readonly StaticEndpoint[]>>;
  /** Logs what `register` ignores, at debug level. @default a logger for `refront-discovery` */
  readonly logger?: Logger;
}

function toInstances(services: StaticRegistryOptions['services']): Map<string, readonly ServiceInstance[]> {
  if (typeof services !== 'object' || services === null) throw invalidOption('services must be an object');
  const out = new Map<string, readonly ServiceInstance[]>();
  for (const [service, endpoints] of Object.entries(services)) {
    if (service.trim() === '' || !Array.isArray(endpoints)) {
      throw invalidOption(`services.${service} must be a list of endpoints`);
    }
    const instances = endpoints.map((e: StaticEndpoint, i) => {
      if (typeof e?.address !== 'string' || e.address === '' || !isPort(e.port)) {
        throw invalidOption(`services.${service}.${i} needs an address and a port in 1..65535`);
      }
      return freezeInstance({
        id: e.id ?? endpointId(service, e.address, e.port),
        service,
        address: e.address,
        port: e.port,
        metadata: e.metadata ?? {},
        ...(e.version === undefined ? {} : { version: e.version }),
        ...(e.zone === undefined ? {} : { zone: e.zone }),
      });
    });
    if (new Set(instances.map((x) => x.id)).size !== instances.length) {
      throw invalidOption(`services.${service} lists the same endpoint twice`);
    }
    out.set(service, Object.freeze(sortById(instances)));
  }
  return out;
}

/**
 * Creates a registry over a fixed list of endpoints from config. Every listed endpoint counts as
 * healthy (pair it with a balancer's outlier detection); `watch` yields the list once and then
 * waits for its signal. `register` validates the instance and changes nothing (the list is the
 * config), so the same service code runs on every backend.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for an endpoint without address or
 * a valid port, or one listed twice.
 * @example
 * const registry = createStaticRegistry({
 *   services: { tickets: [{ address: '10.0.0.7', port: 50051 }, { address: '10.0.0.8', port: 50051 }] },
 * });
 * await registry.resolve('tickets'); // two instances
 */
export function createStaticRegistry(options: StaticRegistryOptions): Registry & AsyncDisposable {
  const services = toInstances(options?.services);
  const logger = options.logger ?? createLogger({ service: 'refront-discovery' });
  const closed = new AbortController();
  const assertOpen = (): void => {
    if (closed.signal.aborted) throw CoreErrors.CLOSED('the static registry');
  };
  const close = async (): Promise<void> => {
    closed.abort();
  };
  return {
    async register(instance, registerOptions = {}) {
      assertOpen();
      return readOnlyRegister('static', logger, instance, registerOptions);
    },
    async deregister(_instanceId: string, resolveOptions: ResolveOptions = {}) {
      assertOpen();
      resolveOptions.signal?.throwIfAborted();
    },
    async resolve(service: string, resolveOptions: ResolveOptions = {}) {
      assertOpen();
      resolveOptions.signal?.throwIfAborted();
      validateServiceName(service);
      return services.get(service) ?? [];
    },
    watch(service: string, resolveOptions: ResolveOptions = {}) {
      validateServiceName(service);
      const feed = new LatestValue<readonly ServiceInstance[]>(sameSet);
      feed.set(services.get(service) ?? []);
      return feed.values(callSignal(closed.signal, resolveOptions.signal));
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}
