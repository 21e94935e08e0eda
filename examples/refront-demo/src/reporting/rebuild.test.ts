/**
 * A rebuild on real PostgreSQL (PGlite serialises transactions, so it cannot show this): tenant
 * A's rebuild is held at its fault point while it holds A's lock; tenant B's event is logged and
 * projected meanwhile, A's own event waits for the rebuild, and B's rows are never written by it.
 */
import { createLogger } from '@refront/core';
import { type Database, openDatabase } from '@refront/data';
import { describe, expect, it } from 'vitest';
import { infrastructure, isolatedInfrastructure } from '../../test/topology.js';
import { ReportingServiceDefinition } from '../gen/refront/reporting/v1/reporting.js';
import { TimeLogged } from '../gen/refront/timetracking/v1/timetracking.js';
import { eventually, type Harness, startHarness } from '../platform/testing/harness.js';
import { createReportingModule } from './module.js';

const ready = await infrastructure('the per-tenant rebuild on PostgreSQL');

/** A promise and the function that settles it. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve = (): void => {};
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

let entry = 0;
async function logTime(h: Harness, tenant: string, minutes: number): Promise<void> {
  await h.bus
    .as('time-tracking')
    .publish(
      TimeLogged,
      { entryId: `e-${++entry}`, ticketId: 't', customerId: 'c-1', minutes, workDate: '2026-03-02' },
      { tenant },
    );
}

async function minutes(h: Harness, tenant: string): Promise<number> {
  const { customers } = await h.client(ReportingServiceDefinition, tenant).getCustomerReport({});
  return customers[0]?.loggedMinutes ?? 0;
}

/** The row versions (xmin) of a tenant's read-model rows: any write by anyone changes them. */
async function rowVersions(db: Database, tenant: string): Promise<string[]> {
  const { rows } = await db.query<{ v: string }>(
    `select xmin::text || ':' || customer_id || ':' || month as v from customer_hours where tenant_id = $1 order by 1`,
    [tenant],
  );
  return rows.map((r) => r.v);
}

describe.runIf(ready)("a rebuild locks only its caller's tenant (PostgreSQL)", () => {
  it("projects B's events while A's rebuild holds A's lock, and never touches B's rows", async () => {
    await using infra = await isolatedInfrastructure('refront_reporting_rebuild');
    const locked = deferred();
    const release = deferred();
    const h = await startHarness(
      [
        createReportingModule({
          whileRebuildLocked: async () => {
            locked.resolve();
            await release.promise;
          },
        }),
      ],
      { url: infra.databaseUrl },
    );
    const db = await openDatabase({
      schema: 'reporting',
      url: infra.databaseUrl,
      poolSize: 1,
      logger: createLogger({ service: 'test', level: 'silent' }),
    });
    try {
      await logTime(h, 'tenant-a', 60);
      await logTime(h, 'tenant-b', 30);
      await eventually(async () =>
        (await minutes(h, 'tenant-a')) === 60 && (await minutes(h, 'tenant-b')) === 30 ? true : undefined,
      );

      const rebuild = h.client(ReportingServiceDefinition, 'tenant-a', ['admin']).rebuildReadModels({});
      await locked.promise;
      // A's rebuild holds its lock: B's event is logged and projected all the same.
      await logTime(h, 'tenant-b', 45);
      await eventually(async () => ((await minutes(h, 'tenant-b')) === 75 ? true : undefined));
      const bRows = await rowVersions(db, 'tenant-b');
      // A's own event waits for the rebuild: its projection is blocked on A's lock, not logged yet.
      await logTime(h, 'tenant-a', 15);
      await eventually(async () => {
        const { rows } = await db.query<{ n: number }>(
          `select count(*)::int as n from pg_locks where locktype = 'advisory' and not granted
           and database = (select oid from pg_database where datname = current_database())`,
        );
        return rows[0]?.n === 1 ? true : undefined;
      });
      expect(await minutes(h, 'tenant-a')).toBe(60);

      release.resolve();
      expect((await rebuild).eventsReplayed).toBe(1);
      // Then A's waiting event is projected once, after the rebuild: 60 + 15.
      await eventually(async () => ((await minutes(h, 'tenant-a')) === 75 ? true : undefined));
      const { rows } = await db.query<{ tenant_id: string; n: number }>(
        'select tenant_id, count(*)::int as n from event_log group by tenant_id order by tenant_id',
      );
      expect(rows).toEqual([
        { tenant_id: 'tenant-a', n: 2 },
        { tenant_id: 'tenant-b', n: 2 },
      ]);
      expect(await minutes(h, 'tenant-b')).toBe(75);
      expect(await rowVersions(db, 'tenant-b')).toEqual(bRows);
      const again = await h.client(ReportingServiceDefinition, 'tenant-a', ['admin']).rebuildReadModels({});
      expect(again.eventsReplayed).toBe(2);
      expect(await minutes(h, 'tenant-a')).toBe(75);
    } finally {
      release.resolve();
      await db.close();
      await h.stop();
    }
  });
});
