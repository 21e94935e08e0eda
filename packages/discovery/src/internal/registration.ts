import type { ServiceInstance } from '@refront/core';
import type { Registration } from '@refront/core/transport';

/** Builds a {@link Registration} whose `deregister` runs `release` once and shares its promise. */
export function createRegistration(instance: ServiceInstance, release: () => Promise<void>): Registration {
  let released: Promise<void> | undefined;
  const deregister = (): Promise<void> => {
    released ??= release();
    return released;
  };
  return { instance, deregister, [Symbol.asyncDispose]: deregister };
}

/** The signal of a call: the caller's, joined with the owner's close signal. */
export function callSignal(closed: AbortSignal, signal: AbortSignal | undefined): AbortSignal {
  return signal ? AbortSignal.any([signal, closed]) : closed;
}
