/**
 * The roles a user may hold within a tenant (decision 0069), as the gateway reads them from a
 * token's `roles` claim. `admin` may do everything a `member` may, and close billing periods and
 * rebuild reports. A token without roles is a member. The gateway sends a user's roles to the
 * service it calls in core's `METADATA_ROLES` (`x-refront-roles`); invoicing and reporting check `admin` there
 * themselves with `@refront/validate`'s `requireRole` (a role name the services and this list must agree on:
 * test/part2.test.ts closes a period and rebuilds the reports as an admin through the gateway).
 */
export const ROLES = ['admin', 'member'] as const;

/** One of {@link ROLES}. */
export type Role = (typeof ROLES)[number];

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
