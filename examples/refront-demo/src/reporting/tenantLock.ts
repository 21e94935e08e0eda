import type { Transaction } from '@refront/data';

/**
 * The advisory lock key of a tenant's read models in this service's schema (the monolith, and
 * parallel test runs, put several reporting schemas in one database), hashed to 64 bits as
 * `@refront/data` hashes its own lock names. Two keys that collide only make two tenants wait
 * for each other's rebuild; no event is lost or applied twice either way.
 */
function keyOf(tx: Transaction, tenant: string): string {
  return `refront:reporting-rebuild:${tx.schema}:${tenant}`;
}

/**
 * Takes the tenant's rebuild lock for the rest of the transaction: exclusive, so it waits for
 * the tenant's projections in flight to commit and holds off new ones, and nothing else. Other
 * tenants' events keep being logged and projected (decision 0075).
 */
export async function lockTenantForRebuild(tx: Transaction, tenant: string): Promise<void> {
  await tx.query('select pg_advisory_xact_lock(hashtextextended($1, 0))', [keyOf(tx, tenant)]);
}

/**
 * Takes the tenant's lock shared, for the rest of the transaction that logs and projects one of
 * its events: projections of a tenant run side by side, but never beside its rebuild, so an
 * event is either replayed by the rebuild or projected after it, never both nor neither.
 */
export async function lockTenantForProjection(tx: Transaction, tenant: string): Promise<void> {
  await tx.query('select pg_advisory_xact_lock_shared(hashtextextended($1, 0))', [keyOf(tx, tenant)]);
}
