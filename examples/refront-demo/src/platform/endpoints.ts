import { RefrontError } from '@refront/core';
import type { DnsServiceConfig, StaticEndpoint } from '@refront/discovery';

/**
 * Parses `REFRONT_ENDPOINTS`: `tickets=127.0.0.1:50051;invoicing=10.0.0.5:50061,10.0.0.6:50061`.
 * @throws RefrontError INVALID_ARGUMENT naming the bad entry.
 */
export function parseEndpoints(value: string): Record<string, StaticEndpoint[]> {
  const out: Record<string, StaticEndpoint[]> = {};
  for (const entry of value
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const [service, list] = entry.split('=');
    if (!service || !list) throw bad(`"${entry}" is not service=host:port[,host:port]`);
    out[service.trim()] = list.split(',').map((hp) => {
      const m = /^\s*([^:\s]+):(\d{1,5})\s*$/.exec(hp);
      if (!m?.[1] || !m[2] || Number(m[2]) > 65535) throw bad(`"${hp}" of ${service} is not host:port`);
      return { address: m[1], port: Number(m[2]) };
    });
  }
  return out;
}

/**
 * Parses `REFRONT_DNS`: `tickets=tickets.refront.svc.cluster.local:50051;…` (A/AAAA records of a
 * Kubernetes headless service, every pod on the given port).
 */
export function parseDns(value: string): Record<string, DnsServiceConfig> {
  const out: Record<string, DnsServiceConfig> = {};
  for (const entry of value
    .split(';')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const m = /^([a-z][a-z0-9-]*)=([^:\s]+):(\d{1,5})$/.exec(entry);
    if (!m?.[1] || !m[2] || !m[3]) throw bad(`"${entry}" is not service=dns-name:port`);
    out[m[1]] = { name: m[2], port: Number(m[3]) };
  }
  return out;
}

function bad(message: string): RefrontError {
  return new RefrontError('INVALID_ARGUMENT', 'PLATFORM_BAD_ENDPOINTS', message, { retryable: false });
}
