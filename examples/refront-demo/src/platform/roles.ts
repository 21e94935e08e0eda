import { RefrontError } from '@refront/core';

/**
 * The roles a user may hold within a tenant (decision 0069). `admin` may do everything a
 * `member` may, and close billing periods and rebuild reports. A token without roles is a member.
 */
export const ROLES = ['admin', 'member'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

/**
 * Metadata key carrying the caller's roles, space-separated (`admin member`), from the gateway
 * to the service it calls. Trusted on the same terms as the tenant (`x-refront-tenant`): set by
 * the gateway from a verified token only. It does not travel further than that one hop.
 */
export const METADATA_ROLES = 'x-refront-roles';

/** Reason of a service refusing a call whose caller lacks a role (PERMISSION_DENIED). */
export const ROLE_REQUIRED = 'PLATFORM_ROLE_REQUIRED';

const KNOWN: ReadonlySet<string> = new Set(ROLES);

/** Whether `value` names one of the platform's roles. */
export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && KNOWN.has(value);
}

/**
 * The roles a caller effectively holds: its known roles, plus `member`, which every user of a
 * tenant is. Unknown names (an identity provider's other roles) are dropped.
 *
 * @example
 * effectiveRoles(['admin', 'offline_access']); // ['admin', 'member']
 */
export function effectiveRoles(names: readonly string[]): Role[] {
  return ROLES.filter((r) => r === 'member' || names.includes(r));
}

/** Whether holding `roles` grants `required` (every user is a member). */
export function hasRole(roles: readonly string[], required: Role): boolean {
  return required === 'member' || roles.includes(required);
}

/** The roles in a call's metadata (the gateway's {@link METADATA_ROLES}); none when absent. */
export function rolesOf(metadata: Readonly<Record<string, string>>): string[] {
  const value = metadata[METADATA_ROLES];
  return value === undefined ? [] : value.split(' ').filter((r) => r !== '');
}

/**
 * Refuses a call whose caller does not hold `required`: the services' own check behind the
 * gateway's (defence in depth), so a call that reaches a service without going through the
 * gateway's role check still cannot close a period or rebuild reports.
 *
 * @throws RefrontError PERMISSION_DENIED (PLATFORM_ROLE_REQUIRED).
 * @example
 * requireRole(ctx.metadata, 'admin');
 */
export function requireRole(metadata: Readonly<Record<string, string>>, required: Role): void {
  if (hasRole(rolesOf(metadata), required)) return;
  throw new RefrontError('PERMISSION_DENIED', ROLE_REQUIRED, `this call requires the ${required} role`, {
    retryable: false,
  });
}
