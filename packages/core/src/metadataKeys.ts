/** Metadata key carrying the calling service's name (or the authenticated principal). */
export const METADATA_CALLER = 'x-refront-caller';
/** Metadata key carrying the tenant the call acts for. */
export const METADATA_TENANT = 'x-refront-tenant';
/**
 * Metadata key carrying the roles of the user a call acts for, space-separated (`admin member`):
 * set by the edge (an HTTP gateway) from a verified token, read by `requireRole`. Trusted
 * on the same terms as {@link METADATA_TENANT}; clients do not copy it into the calls a handler makes.
 */
export const METADATA_ROLES = 'x-refront-roles';
/** Default time allowed for a call when neither the caller nor the context sets a deadline, in ms. */
export const DEFAULT_CALL_TIMEOUT_MS = 10_000;
/**
 * Metadata key carrying the idempotency key of a call: one per logical call, the same on each of
 * its retries, derived per hop from the inbound key inside a handler (decision 0052).
 */
export const METADATA_IDEMPOTENCY_KEY = 'x-refront-idempotency-key';
