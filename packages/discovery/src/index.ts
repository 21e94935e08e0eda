export type { Balancer, BalancerOptions, BalancerStrategy, OutlierOptions, Pick } from './Balancer.js';
export {
  createBalancer,
  DEFAULT_BALANCER_STRATEGY,
  DEFAULT_CONSECUTIVE_FAILURES,
  DEFAULT_EJECTION_MS,
  DEFAULT_MAX_EJECTED_PERCENT,
  DEFAULT_MAX_EJECTION_MS,
} from './Balancer.js';
export type { ConsulRegistryOptions } from './ConsulRegistry.js';
export {
  createConsulRegistry,
  DEFAULT_CONSUL_HOST,
  DEFAULT_CONSUL_PORT,
  DEFAULT_CONSUL_REQUEST_TIMEOUT_MS,
  DEFAULT_CONSUL_RETRY_BASE_DELAY_MS,
  DEFAULT_CONSUL_RETRY_MAX_DELAY_MS,
  DEFAULT_CONSUL_WAIT_MS,
} from './ConsulRegistry.js';
export type {
  DnsAnswer,
  DnsLookup,
  DnsRecordType,
  DnsRegistryOptions,
  DnsServiceConfig,
} from './DnsRegistry.js';
export {
  createDnsRegistry,
  DEFAULT_DNS_QUERY_TIMEOUT_MS,
  DEFAULT_DNS_REFRESH_INTERVAL_MS,
} from './DnsRegistry.js';
export type { DiscoveryReasonCode } from './errors.js';
export { DiscoveryErrors, DiscoveryReason } from './errors.js';
export type { InstancePool, InstancePoolOptions } from './InstancePool.js';
export { createInstancePool } from './InstancePool.js';
export type { InstanceAttempts, InstancePicker, PooledInstance } from './InstancePoolAttempts.js';
export { InstancePicks } from './InstancePoolAttempts.js';
export {
  DEFAULT_DEREGISTER_CRITICAL_AFTER_MS,
  DEFAULT_HTTP_CHECK_TIMEOUT_MS,
  DEFAULT_TTL_MS,
} from './internal/validate.js';
export { createMemoryRegistry } from './MemoryRegistry.js';
export type { Resolver, ResolverOptions } from './Resolver.js';
export { createResolver } from './Resolver.js';
export type { RegistryFromEnvOptions } from './registryFromEnv.js';
export { registryFromEnv } from './registryFromEnv.js';
export type { StaticEndpoint, StaticRegistryOptions } from './StaticRegistry.js';
export { createStaticRegistry } from './StaticRegistry.js';
