import { isRefrontError } from '@refront/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from './Database.js';
import { createEmbeddedPostgres, type EmbeddedPostgres } from './EmbeddedPostgres.js';
import { DataReason } from './errors.js';
import { openDatabase } from './openDatabase.js';
import { silent } from './testing/engines.js';

const MIGRATIONS = [
  { version: 1, name: 'items', sql: 'create table items (n int primary key, owner text not null);' },
];

describe('createEmbeddedPostgres: one PGlite, one schema per service', () => {
  let embedded: EmbeddedPostgres;
  let a: Database;
  let b: Database;

  beforeAll(async () => {
    embedded = await createEmbeddedPostgres({ nestedCallTimeoutMs: 200 });
    a = await openDatabase({ schema: 'svc_a', embedded, migrations: MIGRATIONS, logger: silent });
    b = await openDatabase({ schema: 'svc_b', embedded, migrations: MIGRATIONS, logger: silent });
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await embedded?.close();
  });

  it('keeps each schema apart under concurrent interleaved work', async () => {
    const work: Promise<unknown>[] = [];
    for (let i = 0; i < 60; i++) {
      for (const [db, owner] of [
        [a, 'a'],
        [b, 'b'],
      ] as const) {
        work.push(
          i % 2 === 0
            ? db.query('insert into items (n, owner) values ($1, $2)', [i, owner])
            : db.transaction(async (tx) => {
                await tx.query('insert into items (n, owner) values ($1, $2)', [i, owner]);
                await new Promise((r) => setImmediate(r)); // yield so the other schema queues up
                const { rows } = await tx.query<{ owners: string[] }>(
                  'select array_agg(distinct owner) as owners from items',
                );
                expect(rows[0]?.owners).toEqual([owner]);
              }),
        );
        work.push(
          db.query<{ owner: string }>('select distinct owner from items').then((r) => {
            expect(r.rows.every((row) => row.owner === owner)).toBe(true);
          }),
        );
      }
    }
    await Promise.all(work);
    expect(
      (await a.query('select count(*) as n, min(owner) as o, max(owner) as p from items')).rows[0],
    ).toEqual({ n: 60, o: 'a', p: 'a' });
    expect(
      (await b.query('select count(*) as n, min(owner) as o, max(owner) as p from items')).rows[0],
    ).toEqual({ n: 60, o: 'b', p: 'b' });
  });

  it('does not let one service see another service’s unqualified tables', async () => {
    await a.query('create table only_in_a (x int)');
    const error = await b.query('select * from only_in_a').catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('42P01');
  });

  it('pins the schema again after a statement changed search_path', async () => {
    await a.query('set search_path to svc_b');
    expect((await a.query<{ s: string }>('select current_schema() as s')).rows[0]?.s).toBe('svc_a');
    await b.transaction(async (tx) => {
      await tx.query('set search_path to svc_a');
    });
    expect((await b.query<{ s: string }>('select current_schema() as s')).rows[0]?.s).toBe('svc_b');
  });

  it('fails a call that would deadlock inside a transaction with DATA_NESTED_EMBEDDED_CALL', async () => {
    const error = await a
      .transaction(async () => {
        await b.query('select 1'); // must go through tx: the engine is busy with this transaction
      })
      .catch((e: unknown) => e);
    expect(isRefrontError(error) && error.reason).toBe(DataReason.NESTED_EMBEDDED_CALL);
    // Work started inside a transaction but not awaited by it just waits its turn.
    let later: Promise<unknown> | undefined;
    await a.transaction(async (tx) => {
      later = b.query('select 2 as two');
      await tx.query('select 1');
    });
    expect((await later)?.valueOf()).toMatchObject({ rows: [{ two: 2 }] });
  });

  it('reports memory as its data directory', async () => {
    expect(embedded.dataDir).toBe('memory');
  });
});

describe('openDatabase without url or embedded', () => {
  it('opens a private in-memory PGlite and closes it with the database', async () => {
    const db = await openDatabase({ schema: 'solo', logger: silent });
    expect(db.engine).toBe('pglite');
    await db.query('create table t (x int)');
    expect((await db.query('select count(*) as n from t')).rows).toEqual([{ n: 0 }]);
    await db.close();
    await db.close();
  });
});
