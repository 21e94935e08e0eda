/**
 * The timer functions as they were when this module loaded, before any test clock replaced the
 * globals: waits that bound a test in real time (`waitFor`, `eventually`) must not stop with the
 * fake clock.
 */
export const realSetTimeout: typeof setTimeout = globalThis.setTimeout;
/** See {@link realSetTimeout}. */
export const realClearTimeout: typeof clearTimeout = globalThis.clearTimeout;

/** Resolves after `ms` of real time. */
export function realSleep(ms: number): Promise<void> {
  return new Promise((resolve) => realSetTimeout(resolve, ms));
}
