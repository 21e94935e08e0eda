import type { ServiceInstance } from '@refront/core';

function sameMetadata(a: Readonly<Record<string, string>>, b: Readonly<Record<string, string>>): boolean {
  const ak = Object.keys(a);
  if (ak.length !== Object.keys(b).length) return false;
  return ak.every((k) => Object.hasOwn(b, k) && a[k] === b[k]);
}

/** Whether two instances describe the same endpoint with the same facts. */
export function sameInstance(a: ServiceInstance, b: ServiceInstance): boolean {
  return (
    a.id === b.id &&
    a.service === b.service &&
    a.address === b.address &&
    a.port === b.port &&
    a.version === b.version &&
    a.zone === b.zone &&
    sameMetadata(a.metadata, b.metadata)
  );
}

/** Sorts by id, so equal sets compare equal and consumers see a stable order. */
export function sortById(instances: readonly ServiceInstance[]): ServiceInstance[] {
  return [...instances].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/** Whether two sets sorted by {@link sortById} are equal, so watches emit only on change. */
export function sameSet(a: readonly ServiceInstance[], b: readonly ServiceInstance[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (x === undefined || y === undefined || !sameInstance(x, y)) return false;
  }
  return true;
}
