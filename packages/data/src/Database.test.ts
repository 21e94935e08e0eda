import { isRefrontError } from '@refront/core';
import { expect, it } from 'vitest';
import { DataReason } from './errors.js';
import { describeEngines } from './testing/engines.js';

/** One row of every common type; both engines must return exactly this. */
const TYPES_SQL = `select
  42::int2 as i2, 2147483647::int4 as i4, 9007199254740991::int8 as i8, 1.5::float4 as f4, 0.1::float8 as f8,
  '12345678901234567890.123'::numeric as num, true as yes, false as no, 'héllo'::text as txt, 'v'::varchar as vc,
  '2024-05-06 07:08:09.123+02'::timestamptz as tstz, '2024-05-06 07:08:09.5'::timestamp as ts, '2024-05-06'::date as d,
  '{"a":[1,2,{"b":null}]}'::jsonb as jb, '[1,"x"]'::json as js, '\\x00ff10'::bytea as bin,
  'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11'::uuid as id, null::text as nothing,
  array[1,2,3]::int4[] as ints, array[1, null, 3]::int8[] as bigs, array['a b','c"d',null]::text[] as texts,
  array['1.10']::numeric[] as nums, array['2024-01-01 00:00:00+00']::timestamptz[] as times, count(*) over () as n`;

const EXPECTED = {
  i2: 42,
  i4: 2147483647,
  i8: 9007199254740991,
  f4: 1.5,
  f8: 0.1,
  num: '12345678901234567890.123',
  yes: true,
  no: false,
  txt: 'héllo',
  vc: 'v',
  tstz: new Date('2024-05-06T05:08:09.123Z'),
  ts: new Date('2024-05-06T07:08:09.500Z'),
  d: '2024-05-06',
  jb: { a: [1, 2, { b: null }] },
  js: [1, 'x'],
  bin: Buffer.from([0, 255, 16]),
  id: 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11',
  nothing: null,
  ints: [1, 2, 3],
  bigs: [1, null, 3],
  texts: ['a b', 'c"d', null],
  nums: ['1.10'],
  times: [new Date('2024-01-01T00:00:00Z')],
  n: 1,
};

describeEngines('Database', (fx) => {
  it('returns the same JS types on both engines', async () => {
    const db = await fx.open();
    const { rows } = await db.query(TYPES_SQL);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toEqual(EXPECTED);
    expect(Buffer.isBuffer(rows[0]?.bin)).toBe(true);
  });

  it('round-trips parameters of every common type', async () => {
    const db = await fx.open();
    const when = new Date('2023-02-03T04:05:06.789Z');
    const { rows } = await db.query(
      'select $1::int8 as a, $2::jsonb as b, $3::bytea as c, $4::timestamptz as d, $5::text[] as e, $6::bool as f, $7::numeric as g',
      [12, JSON.stringify({ k: [1] }), Buffer.from('hi'), when, ['x', 'y'], true, '3.14'],
    );
    expect(rows[0]).toEqual({
      a: 12,
      b: { k: [1] },
      c: Buffer.from('hi'),
      d: when,
      e: ['x', 'y'],
      f: true,
      g: '3.14',
    });
  });

  it('throws DATA_INT8_OUT_OF_RANGE instead of losing int8 precision', async () => {
    const db = await fx.open();
    const error = await db.query('select 9007199254740993::int8 as big').catch((e: unknown) => e);
    expect(isRefrontError(error) && error.reason).toBe(DataReason.INT8_OUT_OF_RANGE);
    expect(isRefrontError(error) && error.status).toBe('OUT_OF_RANGE');
    // The handle still works afterwards.
    expect((await db.query('select 9007199254740993::int8::text as big')).rows[0]).toEqual({
      big: '9007199254740993',
    });
  });

  it('resolves unqualified names in its own schema only', async () => {
    const a = await fx.open();
    const b = await fx.open();
    await a.query('create table notes (body text)');
    await a.query(`insert into notes values ('from a')`);
    expect((await a.query('select body from notes')).rows).toEqual([{ body: 'from a' }]);
    const error = await b.query('select body from notes').catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('42P01'); // undefined_table, same SQLSTATE on both engines
  });

  it('reports rowCount for SELECT, INSERT, UPDATE and DELETE', async () => {
    const db = await fx.open();
    await db.query('create table t (id int primary key, v text)');
    expect((await db.query(`insert into t values (1, 'a'), (2, 'b')`)).rowCount).toBe(2);
    expect((await db.query(`update t set v = 'z' where id = 3`)).rowCount).toBe(0);
    expect((await db.query(`update t set v = 'z'`)).rowCount).toBe(2);
    expect((await db.query('select * from t')).rowCount).toBe(2);
    expect((await db.query('delete from t where id = 1')).rowCount).toBe(1);
    expect((await db.query(`insert into t values (2, 'b') on conflict do nothing`)).rowCount).toBe(0);
  });

  it('commits a transaction and runs afterCommit callbacks after COMMIT', async () => {
    const db = await fx.open();
    await db.query('create table t (id int primary key)');
    const seen: number[] = [];
    const value = await db.transaction(async (tx) => {
      expect(tx.schema).toBe(db.schema);
      await tx.query('insert into t values (1)');
      tx.afterCommit(async () => {
        seen.push((await db.query<{ n: number }>('select count(*) as n from t')).rows[0]?.n ?? -1);
      });
      expect(seen).toEqual([]);
      return 'done';
    });
    expect(value).toBe('done');
    await expect.poll(() => seen).toEqual([1]);
  });

  it('rolls back on a throw, rethrows it, and skips afterCommit', async () => {
    const db = await fx.open();
    await db.query('create table t (id int primary key)');
    let called = false;
    const boom = new Error('boom');
    await expect(
      db.transaction(async (tx) => {
        await tx.query('insert into t values (1)');
        tx.afterCommit(() => {
          called = true;
        });
        throw boom;
      }),
    ).rejects.toBe(boom);
    expect(called).toBe(false);
    expect((await db.query('select * from t')).rows).toEqual([]);
  });

  it('rolls back when a statement fails and keeps the handle usable', async () => {
    const db = await fx.open();
    await db.query('create table t (id int primary key)');
    const error = await db
      .transaction(async (tx) => {
        await tx.query('insert into t values (1)');
        await tx.query('insert into t values (1)');
      })
      .catch((e: unknown) => e);
    expect((error as { code?: string }).code).toBe('23505');
    expect((await db.query('select count(*) as n from t')).rows[0]).toEqual({ n: 0 });
  });

  it('refuses statements on a transaction that has ended', async () => {
    const db = await fx.open();
    let leaked: { query(text: string): Promise<unknown> } | undefined;
    await db.transaction(async (tx) => {
      leaked = tx;
    });
    const error = await leaked?.query('select 1').catch((e: unknown) => e);
    expect(isRefrontError(error) && [error.status, error.reason, error.retryable]).toEqual([
      'UNAVAILABLE',
      'CORE_CLOSED',
      false,
    ]);
  });

  it('answers ping, closes idempotently and refuses work after close', async () => {
    const db = await fx.open();
    await expect(db.ping()).resolves.toBeUndefined();
    expect(db.engine).toBe(fx.engine);
    await db.close();
    await db.close();
    const error = await db.query('select 1').catch((e: unknown) => e);
    expect(isRefrontError(error) && [error.status, error.reason, error.retryable]).toEqual([
      'UNAVAILABLE',
      'CORE_CLOSED',
      false,
    ]);
  });
});
