import { isIP } from 'node:net';
import { invalidOption } from '@refront/core/transport';

/**
 * Which proxies in front of the gateway are believed about the client's address (Fastify's
 * `trustProxy`): `false` uses the socket's peer; `true` the leftmost `X-Forwarded-For` entry
 * (anyone can forge it); a number, that many hops from the gateway; a list, the addresses and
 * CIDRs (or `loopback`, `linklocal`, `uniquelocal`) of trusted proxies.
 */
export type TrustProxy = boolean | number | readonly string[];

/** proxy-addr's names of address ranges. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function isAddressOrCidr(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true;
  const [address = '', bits, ...rest] = entry.split('/');
  const family = isIP(address);
  if (family === 0 || rest.length > 0) return false;
  if (bits === undefined) return true;
  const max = family === 4 ? 32 : 128;
  return /^\d{1,3}$/.test(bits) && Number(bits) <= max;
}

/**
 * Reads `GATEWAY_TRUST_PROXY`: `false`, `true`, a hop count, or a comma-separated list of
 * addresses and CIDRs.
 *
 * @throws RefrontError INVALID_ARGUMENT (CORE_INVALID_OPTION) naming the entry it cannot read.
 * @example
 * parseTrustProxy('10.0.0.0/8, 127.0.0.1'); // ['10.0.0.0/8', '127.0.0.1']
 */
export function parseTrustProxy(value: string): TrustProxy {
  const v = value.trim();
  if (v === 'false') return false;
  if (v === 'true') return true;
  if (/^\d+$/.test(v)) return Number(v);
  const entries = v.split(',').map((e) => e.trim());
  const bad = entries.find((e) => !isAddressOrCidr(e));
  if (bad !== undefined) {
    throw invalidOption(
      `trustProxy: ${JSON.stringify(bad)} is not false, true, a hop count, an address or a CIDR`,
    );
  }
  return entries;
}
