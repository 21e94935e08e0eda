import type { Logger, Registry } from '@refront/core';
import { createConsulRegistry } from './ConsulRegistry.js';
import { createDnsRegistry, type DnsServiceConfig } from './DnsRegistry.js';
import { createMemoryRegistry } from './MemoryRegistry.js';
import { createStaticRegistry, type StaticEndpoint } from './StaticRegistry.js';

/** Options of {@link registryFromEnv}. */
export interface RegistryFromEnvOptions {
  /** The environment to read. @default process.env */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** DNS lookups per service; used when Consul is not configured. */
  readonly dns?: Readonly<Record<string, DnsServiceConfig>>;
  /** Fixed endpoints per service; used when neither Consul nor DNS is configured. */
  readonly services?: Readonly<Record<string, readonly StaticEndpoint[]>>;
  /** Passed to the backend. */
  readonly logger?: Logger;
}

/**
 * Picks the backend from the environment, so switching topology is configuration: Consul when
 * `CONSUL_HTTP_ADDR` is set (with `CONSUL_HTTP_TOKEN` if set), else DNS when `dns` is given, else
 * static when `services` is given, else in-memory (the monolith's embedded default).
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` when the chosen backend rejects its config.
 * @example
 * await using registry = registryFromEnv({ services: { tickets: [{ address: '127.0.0.1', port: 50051 }] } });
 */
export function registryFromEnv(options: RegistryFromEnvOptions = {}): Registry & AsyncDisposable {
  const env = options.env ?? process.env;
  const logger = options.logger ? { logger: options.logger } : {};
  const consul = env.CONSUL_HTTP_ADDR;
  if (consul !== undefined && consul !== '') {
    const token = env.CONSUL_HTTP_TOKEN;
    return createConsulRegistry({ url: consul, ...(token ? { token } : {}), ...logger });
  }
  if (options.dns) return createDnsRegistry({ services: options.dns, ...logger });
  if (options.services) return createStaticRegistry({ services: options.services, ...logger });
  return createMemoryRegistry();
}
