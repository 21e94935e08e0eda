import { createLogger, isRefrontError } from '@refront/core';
import { describe, expect, it } from 'vitest';
import type { Migration } from './Database.js';
import { DataReason } from './errors.js';
import { migrationChecksum } from './internal/migrate.js';
import { openDatabase } from './openDatabase.js';
import { describeEngines, POSTGRES_URL, postgresUp, uniqueSchema } from './testing/engines.js';

const V1: Migration = {
  version: 1,
  name: 'tickets',
  sql: 'create table tickets (id text primary key, title text not null);',
};
const V2: Migration = {
  version: 2,
  name: 'tickets status',
  sql: `alter table tickets add column status text not null default 'open';
        insert into tickets (id, title) values ('seed', 'seeded by v2');`,
};

async function reasonOf(p: Promise<unknown>): Promise<string | undefined> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  return isRefrontError(e) ? `${e.status}/${e.reason}` : String(e);
}

describe('openDatabase options', () => {
  it.each(['', 'Tickets', '1abc', 'a-b', 'pg_catalog', 'x'.repeat(64), 'tickets; drop table x'])(
    'rejects the schema name %j with INVALID_ARGUMENT',
    async (schema) => {
      expect(await reasonOf(openDatabase({ schema, url: POSTGRES_URL }))).toBe(
        `INVALID_ARGUMENT/${DataReason.INVALID_SCHEMA}`,
      );
    },
  );

  it.each([
    [[{ version: 0, name: 'zero', sql: 'select 1' }]],
    [[{ version: 1.5, name: 'half', sql: 'select 1' }]],
    [[V1, { ...V1, name: 'again' }]],
    [[{ version: 3, name: '', sql: 'select 1' }]],
    [[{ version: 3, name: 'empty', sql: '  ' }]],
  ])('rejects a malformed migration list %j', async (migrations) => {
    expect(await reasonOf(openDatabase({ schema: 'ok', url: POSTGRES_URL, migrations }))).toBe(
      `INVALID_ARGUMENT/${DataReason.INVALID_MIGRATION}`,
    );
  });

  it('rejects bad pool options and URLs', async () => {
    expect(await reasonOf(openDatabase({ schema: 'ok', url: POSTGRES_URL, poolSize: 0 }))).toBe(
      'INVALID_ARGUMENT/CORE_INVALID_OPTION',
    );
    expect(await reasonOf(openDatabase({ schema: 'ok', url: 'mysql://x' }))).toBe(
      'INVALID_ARGUMENT/CORE_INVALID_OPTION',
    );
  });

  it('checksums ignore line endings and surrounding blanks only', () => {
    expect(migrationChecksum('select 1;\r\nselect 2;\n')).toBe(migrationChecksum('select 1;\nselect 2;'));
    expect(migrationChecksum('select 1;')).not.toBe(migrationChecksum('select 2;'));
  });
});

describe.skipIf(!postgresUp)('the migration log line', () => {
  it('names the migration by migration_version and keeps the service version as version, once', async () => {
    const raw: string[] = [];
    const logger = createLogger({
      service: 'tickets',
      version: '9.9.9',
      level: 'info',
      destination: { write: (l: string) => void raw.push(l) },
    });
    const schema = uniqueSchema();
    await using _db = await openDatabase({ schema, url: POSTGRES_URL, migrations: [V1, V2], logger });
    const applied = raw.filter((l) => l.includes('"migration applied"'));
    expect(applied).toHaveLength(2);
    for (const line of applied) expect(line.match(/"version":/g)).toHaveLength(1);
    expect(applied.map((l) => JSON.parse(l) as Record<string, unknown>)).toMatchObject([
      { service: 'tickets', version: '9.9.9', migration_version: 1, migration: V1.name },
      { service: 'tickets', version: '9.9.9', migration_version: 2, migration: V2.name },
    ]);
  });
});

describe.skipIf(!postgresUp)('openDatabase on an unreachable server', () => {
  it('fails with UNAVAILABLE DATA_UNAVAILABLE', async () => {
    expect(
      await reasonOf(
        openDatabase({
          schema: 'ok',
          url: 'postgres://postgres@127.0.0.1:1/postgres',
          connectTimeoutMs: 2_000,
        }),
      ),
    ).toBe(`UNAVAILABLE/${DataReason.UNAVAILABLE}`);
  });
});

describeEngines('migrations', (fx) => {
  it('applies migrations in version order, once, and records them in the ledger', async () => {
    const schema = uniqueSchema();
    const db = await fx.open({ schema, migrations: [V2, V1] });
    expect((await db.query('select id, title, status from tickets')).rows).toEqual([
      { id: 'seed', title: 'seeded by v2', status: 'open' },
    ]);
    const again = await fx.open({ schema, migrations: [V1, V2] });
    expect((await again.query('select count(*) as n from tickets')).rows[0]).toEqual({ n: 1 });
    const ledger = await again.query(
      'select version, name, checksum, applied_at from refront_migrations order by version',
    );
    expect(ledger.rows.map((r) => [r.version, r.name, r.checksum])).toEqual([
      [1, V1.name, migrationChecksum(V1.sql)],
      [2, V2.name, migrationChecksum(V2.sql)],
    ]);
    expect(ledger.rows[0]?.applied_at).toBeInstanceOf(Date);
  });

  it('applies only the new migrations of a later release', async () => {
    const schema = uniqueSchema();
    await fx.open({ schema, migrations: [V1] });
    const db = await fx.open({ schema, migrations: [V1, V2] });
    expect((await db.query('select status from tickets')).rows).toEqual([{ status: 'open' }]);
  });

  it('refuses to open when an applied migration was edited (DATA_MIGRATION_CHANGED)', async () => {
    const schema = uniqueSchema();
    await fx.open({ schema, migrations: [V1] });
    const edited = { ...V1, sql: 'create table tickets (id text primary key);' };
    expect(await reasonOf(fx.open({ schema, migrations: [edited] }))).toBe(
      `FAILED_PRECONDITION/${DataReason.MIGRATION_CHANGED}`,
    );
  });

  it('rolls back a failing migration and keeps the earlier ones (DATA_MIGRATION_FAILED)', async () => {
    const schema = uniqueSchema();
    const broken: Migration = {
      version: 2,
      name: 'broken',
      sql: 'create table half (id int); select * from nowhere;',
    };
    expect(await reasonOf(fx.open({ schema, migrations: [V1, broken] }))).toBe(
      `FAILED_PRECONDITION/${DataReason.MIGRATION_FAILED}`,
    );
    const db = await fx.open({ schema });
    expect((await db.query('select version from refront_migrations')).rows).toEqual([{ version: 1 }]);
    expect((await db.query(`select to_regclass('half') as t`)).rows).toEqual([{ t: null }]);
  });

  it('creates the refront tables in the service schema', async () => {
    const db = await fx.open();
    const { rows } = await db.query<{ table_name: string }>(
      `select table_name from information_schema.tables where table_schema = $1 order by table_name`,
      [db.schema],
    );
    expect(rows.map((r) => r.table_name)).toEqual([
      'refront_idempotent_requests',
      'refront_inbox',
      'refront_migrations',
      'refront_outbox',
    ]);
  });

  if (fx.engine === 'postgres')
    it('serialises concurrent opens: 3 instances apply a migration once', async () => {
      const schema = uniqueSchema();
      const counted: Migration = {
        version: 1,
        name: 'counted',
        sql: `create table applied (at timestamptz default now()); insert into applied default values;`,
      };
      const SECOND: Migration = { version: 2, name: 'second', sql: 'create table second_table (id int);' };
      const dbs = await Promise.all([1, 2, 3].map(() => fx.open({ schema, migrations: [counted, SECOND] })));
      expect((await dbs[0]?.query('select count(*) as n from applied'))?.rows[0]).toEqual({ n: 1 });
      expect((await dbs[2]?.query('select count(*) as n from refront_migrations'))?.rows[0]).toEqual({
        n: 2,
      });
    });
});
