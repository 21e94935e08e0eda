import { METADATA_ROLES } from '@refront/core/transport';
import { ValidateErrors } from './errors.js';

/**
 * The tenant a call acts for (core's `x-refront-tenant`), as a handler must have it: every query of a multi-tenant service
 * filters by it. Pass the handler's context (or `currentContext()`).
 *
 * @throws RefrontError UNAUTHENTICATED `VALIDATE_NO_TENANT` when the call names no tenant (empty
 *   counts as none); not retryable.
 * @example
 * async getTicket(request, ctx) {
 *   const tenant = requireTenant(ctx);
 *   return store.ticket(db, tenant, request.id);
 * }
 */
export function requireTenant(context: { readonly tenant: string | undefined }): string {
  const tenant = context.tenant;
  if (tenant === undefined || tenant === '') {
    throw ValidateErrors.NO_TENANT();
  }
  return tenant;
}

/**
 * Refuses a call whose user does not hold `role`, read from the call's `x-refront-roles` (core's
 * `METADATA_ROLES`: space-separated names, set by the edge from a verified token). The edge sends
 * every role the user holds, implied ones included, so the check is a lookup: a call without the
 * key holds no role. Roles are per hop: the clients a handler uses do not forward them.
 *
 * @throws RefrontError PERMISSION_DENIED `VALIDATE_ROLE_REQUIRED`; not retryable.
 * @example
 * async closeBillingPeriod(request, ctx) {
 *   requireRole(ctx, 'admin');
 *   // …
 * }
 */
export function requireRole(
  context: { readonly metadata: Readonly<Record<string, string>> },
  role: string,
): void {
  const roles = context.metadata[METADATA_ROLES];
  if (roles?.split(' ').includes(role)) return;
  throw ValidateErrors.ROLE_REQUIRED(role);
}
