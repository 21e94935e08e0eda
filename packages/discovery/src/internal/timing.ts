/** Resolves after `ms`, or at once when `signal` aborts; never rejects. The timer is unref'd. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    timer.unref?.();
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so clients that
 * failed together (a Consul restart) do not retry together, and none retries at once.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number): number {
  const capped = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return capped / 2 + random() * (capped / 2);
}

/** Formats ms as a Go duration string (`1500ms`), the unit Consul's API takes. */
export function goDuration(ms: number): string {
  return `${Math.max(1, Math.round(ms))}ms`;
}
