/**
 * Resolves after `ms`, or rejects with `signal.reason` as soon as the signal aborts (at once when
 * it already has). The timer and the listener are released either way. It calls the `setTimeout`
 * installed when it is called, so a fake clock a test installs (`@refront/testing`) drives it.
 *
 * The one abortable wait of the Refront packages (retry backoff, outbox polling, workflow leases,
 * delay faults): `@refront/core/transport` exports it for them.
 *
 * @throws the signal's reason (rejects) when `signal` aborts first.
 * @example
 * await sleep(backoffMs, ctx.signal); // rejects with ctx.signal.reason if the call is cancelled
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  if (signal?.aborted) return Promise.reject(signal.reason);
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
