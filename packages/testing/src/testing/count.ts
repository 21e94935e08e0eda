import type { TestApp } from '../startTestApp.js';

/** Rows the sink stored for ThingHappened `id`. */
export async function sinkRows(app: TestApp, id: string): Promise<number> {
  const { rows } = await app
    .db('sink')
    .query<{ n: number }>('select count(*)::int as n from things where id = $1', [id]);
  return rows[0]?.n ?? 0;
}

/** Rows the echo module stored for `message`. */
export async function echoRows(app: TestApp, message: string): Promise<number> {
  const { rows } = await app
    .db('echo')
    .query<{ n: number }>('select count(*)::int as n from echoes where message = $1', [message]);
  return rows[0]?.n ?? 0;
}
