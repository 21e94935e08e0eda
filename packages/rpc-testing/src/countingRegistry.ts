import type { Registry } from '@refront/core';

/** A {@link Registry} that counts the resolves and watches asked of it. */
export interface CountingRegistry extends Registry {
  /** `resolve` calls so far. */
  readonly resolves: number;
  /** `watch` calls so far. */
  readonly watches: number;
}

/**
 * Wraps `registry` to count how often it is asked, to prove a channel's calls never resolve again.
 *
 * @example
 * const registry = countingRegistry(createMemoryRegistry());
 * // … calls through a channel discovering `registry` …
 * expect(registry.resolves).toBe(1);
 */
export function countingRegistry(registry: Registry): CountingRegistry {
  const counted = {
    resolves: 0,
    watches: 0,
    register: registry.register.bind(registry),
    deregister: registry.deregister.bind(registry),
    close: registry.close.bind(registry),
    resolve(service: string, o?: { signal?: AbortSignal }) {
      counted.resolves++;
      return registry.resolve(service, o);
    },
    watch(service: string, o?: { signal?: AbortSignal }) {
      counted.watches++;
      return registry.watch(service, o);
    },
  };
  return counted;
}
