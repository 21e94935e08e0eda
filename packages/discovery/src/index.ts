export type { Balancer, BalancerOptions, BalancerStrategy, OutlierOptions, Pick } from './Balancer.js';
export { createBalancer } from './Balancer.js';
export type { ConsulRegistryOptions } from './ConsulRegistry.js';
export { createConsulRegistry } from './ConsulRegistry.js';
export type {
  DnsAnswer,
  DnsLookup,
  DnsRecordType,
  DnsRegistryOptions,
  DnsServiceConfig,
} from './DnsRegistry.js';
export { createDnsRegistry } from './DnsRegistry.js';
export type { DiscoveryReasonCode } from './errors.js';
export { DiscoveryErrors, DiscoveryReason } from './errors.js';
export type { InstancePool, InstancePoolOptions } from './InstancePool.js';
export { createInstancePool } from './InstancePool.js';
export type { InstanceAttempts, InstancePicker, PooledInstance } from './InstancePoolAttempts.js';
export { InstancePicks } from './InstancePoolAttempts.js';

export { createMemoryRegistry } from './MemoryRegistry.js';
export type { Resolver, ResolverOptions } from './Resolver.js';
export { createResolver } from './Resolver.js';
export type { RegistryFromEnvOptions } from './registryFromEnv.js';
export { registryFromEnv } from './registryFromEnv.js';
export type { StaticEndpoint, StaticRegistryOptions } from './StaticRegistry.js';
export { createStaticRegistry } from './StaticRegistry.js';
