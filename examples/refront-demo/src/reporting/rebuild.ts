import { RefrontError } from '@refront/core';
import type { Transaction } from '@refront/data';
import { decodeLogged, project, READ_MODEL_TABLES } from './projections.js';
import { ReportingReason } from './reasons.js';
import { lockTenantForRebuild } from './tenantLock.js';

/** Events replayed per query during a rebuild. */
export const REBUILD_BATCH_SIZE = 500;

/**
 * Empties one tenant's read models and replays its event log into them, in the caller's
 * transaction, holding only that tenant's lock (decision 0075): the tenant's own projections
 * wait for the rebuild to commit, so no event is applied twice or missed; other tenants' events
 * are logged and projected meanwhile. `whileLocked` runs once the lock is held, before anything
 * is emptied (a fault point for tests). Returns how many events were replayed.
 *
 * @throws RefrontError INTERNAL (REPORTING_BAD_EVENT) when the log holds a type no projection knows.
 */
export async function rebuildTenant(
  tx: Transaction,
  tenant: string,
  whileLocked?: (tenant: string) => Promise<void>,
): Promise<number> {
  await lockTenantForRebuild(tx, tenant);
  await whileLocked?.(tenant);
  for (const table of READ_MODEL_TABLES)
    await tx.query(`delete from ${table} where tenant_id = $1`, [tenant]);
  let after = 0;
  let replayed = 0;
  for (;;) {
    const { rows } = await tx.query<{ seq: number; type: string; body: Uint8Array }>(
      'select seq, type, body from event_log where tenant_id = $1 and seq > $2 order by seq limit $3',
      [tenant, after, REBUILD_BATCH_SIZE],
    );
    for (const row of rows) {
      const event = decodeLogged(row.type, row.body);
      if (event === undefined) {
        throw new RefrontError(
          'INTERNAL',
          ReportingReason.BAD_EVENT,
          `the event log holds an unknown type ${row.type}`,
        );
      }
      await project(tx, tenant, row.type, event);
      after = row.seq;
      replayed++;
    }
    if (rows.length < REBUILD_BATCH_SIZE) return replayed;
  }
}
