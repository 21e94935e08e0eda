/** The state of a health check, named as Consul names them. */
export type CheckStatus = 'passing' | 'warning' | 'critical';

/**
 * Probes an HTTP health endpoint the way Consul does: 2xx is passing, 429 is warning, anything
 * else (another status, a refused connection, a timeout) is critical.
 */
export async function httpProbe(url: string, timeoutMs: number, signal?: AbortSignal): Promise<CheckStatus> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, { signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    await res.body?.cancel();
    if (res.status >= 200 && res.status < 300) return 'passing';
    return res.status === 429 ? 'warning' : 'critical';
  } catch {
    // A refused connection, a reset or a timeout: the instance cannot serve, whatever the cause.
    return 'critical';
  }
}
