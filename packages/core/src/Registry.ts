/** One running instance of a service, as discovery knows it. */
export interface ServiceInstance {
  /** Unique among the instances of all services (`invoicing-1f3a`). */
  readonly id: string;
  /** The logical service name (`invoicing`). */
  readonly service: string;
  /** Host name or IP address. */
  readonly address: string;
  /** Port of the instance's request server. */
  readonly port: number;
  /** The version the instance runs (`1.4.2`). */
  readonly version?: string;
  /** Availability zone or region, for zone-aware balancing. */
  readonly zone?: string;
  /** Free-form facts (`protocol: grpc`, `opsPort: 9464`). */
  readonly metadata: Readonly<Record<string, string>>;
}

/** How a registered instance proves it is alive. */
export type HealthCheck =
  /** The registry's client heartbeats every `ttlMs / 3`; no heartbeat for `ttlMs` marks it critical. */
  | { readonly kind: 'ttl'; readonly ttlMs: number }
  /** The registry polls `url` every `intervalMs`; a non-2xx answer marks it critical. */
  | { readonly kind: 'http'; readonly url: string; readonly intervalMs: number; readonly timeoutMs?: number };

/** Options of {@link Registry.register}. */
export interface RegisterOptions {
  /** How the instance proves it is alive. @default the backend's default (TTL 10 s where supported) */
  readonly check?: HealthCheck;
  /** After this long critical, the instance is deregistered by the registry, in ms. @default 60000 */
  readonly deregisterCriticalAfterMs?: number;
  /** Aborts the registration call. */
  readonly signal?: AbortSignal;
}

/** A live registration; disposing it deregisters the instance and stops its heartbeat. */
export interface Registration {
  /** The registered instance. */
  readonly instance: ServiceInstance;
  /** Deregisters the instance and stops its heartbeat; idempotent. */
  deregister(): Promise<void>;
  /** Same as `deregister()`, for `await using`. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link Registry.resolve} and {@link Registry.watch}. */
export interface ResolveOptions {
  /** Aborts the call; for `watch`, ends the iteration. */
  readonly signal?: AbortSignal;
}

/**
 * Service discovery: where instances of a service are. Backends live in `@refront/discovery`
 * (Consul, static/DNS, in-memory); transports accept any implementation.
 *
 * @example
 * for await (const instances of registry.watch('invoicing', { signal })) balancer.update(instances);
 */
export interface Registry {
  /**
   * Registers an instance with a health check.
   * @throws RefrontError UNAVAILABLE when the backend cannot be reached.
   */
  register(instance: ServiceInstance, options?: RegisterOptions): Promise<Registration>;
  /** Removes an instance; removing an unknown one is not an error. */
  deregister(instanceId: string, options?: ResolveOptions): Promise<void>;
  /**
   * The healthy instances of `service` now (possibly none).
   * @throws RefrontError UNAVAILABLE when the backend cannot be reached and nothing is cached.
   */
  resolve(service: string, options?: ResolveOptions): Promise<readonly ServiceInstance[]>;
  /**
   * The healthy instances of `service`, first the current set, then each changed set; ends when
   * `signal` aborts. Backend errors are retried with backoff inside, keeping the last good set.
   */
  watch(service: string, options?: ResolveOptions): AsyncIterable<readonly ServiceInstance[]>;
  /** Stops heartbeats and watches and deregisters what this registry registered; idempotent. */
  close(): Promise<void>;
}
