import { invalidOption } from '@refront/core/transport';

/** The trust domain of Refront's development identities. */
export const DEFAULT_TRUST_DOMAIN = 'refront.local';

const TRUST_DOMAIN = /^[a-z0-9]([a-z0-9.-]*[a-z0-9])?$/;
const SERVICE = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

function check(trustDomain: string, service?: string): void {
  if (!TRUST_DOMAIN.test(trustDomain)) throw invalidOption(`not a SPIFFE trust domain: "${trustDomain}"`);
  if (service !== undefined && !SERVICE.test(service)) {
    throw invalidOption(`not a service name (lower-case letters, digits, dashes): "${service}"`);
  }
}

/**
 * The SPIFFE id of a service: `spiffe://<trust domain>/<service>`, the URI subject alternative
 * name of its certificate (https://github.com/spiffe/spiffe/blob/main/standards/SPIFFE-ID.md).
 * @throws RefrontError INVALID_ARGUMENT (`CORE_INVALID_OPTION`) for a name that is not plain.
 * @example
 * spiffeId('tickets'); // 'spiffe://refront.local/tickets'
 */
export function spiffeId(service: string, trustDomain: string = DEFAULT_TRUST_DOMAIN): string {
  check(trustDomain, service);
  return `spiffe://${trustDomain}/${service}`;
}

/**
 * The inverse of {@link spiffeId} for one trust domain, as a server's `auth.callerName`: the
 * service a peer identity names, undefined for an identity of another trust domain or shape.
 * @example
 * createMuxServer({ ..., auth: { callers: { gateway: '*' }, callerName: serviceOfSpiffeId('refront.local') } });
 */
export function serviceOfSpiffeId(
  trustDomain: string = DEFAULT_TRUST_DOMAIN,
): (identity: string) => string | undefined {
  check(trustDomain);
  const prefix = `spiffe://${trustDomain}/`;
  return (identity) => {
    if (!identity.startsWith(prefix)) return undefined;
    const service = identity.slice(prefix.length);
    return SERVICE.test(service) ? service : undefined;
  };
}
