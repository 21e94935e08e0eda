import type { Logger, ServiceInstance } from '@refront/core';
import type { RegisterOptions, Registration } from '@refront/core/transport';
import { createRegistration } from './registration.js';
import { freezeInstance, validateRegistration } from './validate.js';

/**
 * `register` of a read-only backend (static list, DNS): the platform (Kubernetes endpoints, a
 * config file) decides what exists, so registering validates the instance and changes nothing.
 * It does not throw, so service code stays the same in every topology.
 */
export async function readOnlyRegister(
  backend: string,
  logger: Logger,
  instance: ServiceInstance,
  options: RegisterOptions,
): Promise<Registration> {
  options.signal?.throwIfAborted();
  validateRegistration(instance, options);
  logger.debug({ instanceId: instance.id, backend }, 'read-only registry: register changes nothing');
  return createRegistration(freezeInstance(instance), async () => undefined);
}

/** The instance id a read-only backend gives an endpoint without one: `tickets-10.0.0.7:50051`. */
export function endpointId(service: string, address: string, port: number): string {
  return `${service}-${address.includes(':') ? `[${address}]` : address}:${port}`;
}
