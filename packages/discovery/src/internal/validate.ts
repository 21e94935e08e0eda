import type { FieldViolation, ServiceInstance } from '@refront/core';
import type { HealthCheck, RegisterOptions } from '@refront/core/transport';
import { DiscoveryErrors, invalidInstance } from '../errors.js';

/** The default health check when `register` gets none: a 10 s TTL, as the core contract says. */
export const DEFAULT_TTL_MS = 10_000;
/** How long an instance may stay critical before the registry removes it, in ms. */
export const DEFAULT_DEREGISTER_CRITICAL_AFTER_MS = 60_000;
/** Timeout of one HTTP health probe when the check sets none, in ms (Consul's default). */
export const DEFAULT_HTTP_CHECK_TIMEOUT_MS = 10_000;

function isNonEmptyString(v: unknown): v is string {
  return typeof v === 'string' && v.trim().length > 0;
}

/** Whether `port` is a TCP port a client can connect to. */
export function isPort(port: unknown): port is number {
  return typeof port === 'number' && Number.isInteger(port) && port > 0 && port <= 65_535;
}

function isPositiveDuration(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

function instanceViolations(instance: ServiceInstance): FieldViolation[] {
  const out: FieldViolation[] = [];
  if (typeof instance !== 'object' || instance === null) {
    return [{ field: 'instance', description: 'must be an object' }];
  }
  if (!isNonEmptyString(instance.id)) out.push({ field: 'id', description: 'must be a non-empty string' });
  if (!isNonEmptyString(instance.service))
    out.push({ field: 'service', description: 'must be a non-empty string' });
  if (!isNonEmptyString(instance.address))
    out.push({ field: 'address', description: 'must be a host or IP' });
  if (!isPort(instance.port)) out.push({ field: 'port', description: 'must be an integer in 1..65535' });
  if (instance.version !== undefined && typeof instance.version !== 'string') {
    out.push({ field: 'version', description: 'must be a string' });
  }
  if (instance.zone !== undefined && typeof instance.zone !== 'string') {
    out.push({ field: 'zone', description: 'must be a string' });
  }
  if (typeof instance.metadata !== 'object' || instance.metadata === null) {
    out.push({ field: 'metadata', description: 'must be an object of strings' });
  } else {
    for (const [k, v] of Object.entries(instance.metadata)) {
      if (typeof v !== 'string') out.push({ field: `metadata.${k}`, description: 'must be a string' });
    }
  }
  return out;
}

function checkViolations(check: HealthCheck): FieldViolation[] {
  if (check.kind === 'ttl') {
    return isPositiveDuration(check.ttlMs) ? [] : [{ field: 'check.ttlMs', description: 'must be > 0' }];
  }
  if (check.kind !== 'http') return [{ field: 'check.kind', description: "must be 'ttl' or 'http'" }];
  const out: FieldViolation[] = [];
  if (!URL.canParse(check.url) || !/^https?:$/.test(new URL(check.url).protocol)) {
    out.push({ field: 'check.url', description: 'must be an http(s) URL' });
  }
  if (!isPositiveDuration(check.intervalMs))
    out.push({ field: 'check.intervalMs', description: 'must be > 0' });
  if (check.timeoutMs !== undefined && !isPositiveDuration(check.timeoutMs)) {
    out.push({ field: 'check.timeoutMs', description: 'must be > 0' });
  }
  return out;
}

/** Register options with every default resolved. */
export interface ResolvedRegisterOptions {
  readonly check: HealthCheck;
  /** `Infinity` means never. */
  readonly deregisterCriticalAfterMs: number;
}

/**
 * Validates an instance and its register options, resolving defaults.
 * @throws RefrontError INVALID_ARGUMENT `DISCOVERY_INVALID_INSTANCE` listing every violation.
 */
export function validateRegistration(
  instance: ServiceInstance,
  options: RegisterOptions,
): ResolvedRegisterOptions {
  const check: HealthCheck = options.check ?? { kind: 'ttl', ttlMs: DEFAULT_TTL_MS };
  const deregisterCriticalAfterMs = options.deregisterCriticalAfterMs ?? DEFAULT_DEREGISTER_CRITICAL_AFTER_MS;
  const violations = instanceViolations(instance);
  if (typeof check === 'object' && check !== null) violations.push(...checkViolations(check));
  else violations.push({ field: 'check', description: 'must be an object' });
  if (
    !(deregisterCriticalAfterMs === Number.POSITIVE_INFINITY || isPositiveDuration(deregisterCriticalAfterMs))
  ) {
    violations.push({ field: 'deregisterCriticalAfterMs', description: 'must be > 0 or Infinity' });
  }
  if (violations.length > 0) throw invalidInstance(violations);
  return { check, deregisterCriticalAfterMs };
}

/**
 * Validates a service name passed to `resolve` or `watch`.
 * @throws RefrontError INVALID_ARGUMENT `DISCOVERY_INVALID_SERVICE`.
 */
export function validateServiceName(service: string): void {
  if (!isNonEmptyString(service)) {
    throw DiscoveryErrors.INVALID_SERVICE.with({
      details: { fieldViolations: [{ field: 'service', description: 'must be a non-empty string' }] },
    });
  }
}

/** A frozen copy of an instance, so callers and backends never share mutable state. */
export function freezeInstance(instance: ServiceInstance): ServiceInstance {
  const copy: { -readonly [K in keyof ServiceInstance]: ServiceInstance[K] } = {
    id: instance.id,
    service: instance.service,
    address: instance.address,
    port: instance.port,
    metadata: Object.freeze({ ...instance.metadata }),
  };
  if (instance.version !== undefined) copy.version = instance.version;
  if (instance.zone !== undefined) copy.zone = instance.zone;
  return Object.freeze(copy);
}
