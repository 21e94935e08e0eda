import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '@refront/core';
import { createEmbeddedPostgres, type Database, type EmbeddedPostgres, openDatabase } from '@refront/data';
import { findInfra } from '@refront/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import { TEST_MIGRATIONS } from './migrations.js';

const found = await findInfra('postgres');
/** The PostgreSQL server the tests use (`findInfra` of @refront/testing). */
export const POSTGRES_URL: string = found ?? '';
/** Whether it answers (probed once; with REFRONT_REQUIRE_INFRA=1 a missing server fails instead). */
export const postgresUp: boolean = found !== undefined;

/** A random schema name for one test. */
export function uniqueSchema(prefix = 'wf'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A logger that drops everything. */
export const silent: Logger = createLogger({ service: 'workflow-test', level: 'silent' });

/** Drops schemas of the PostgreSQL server. */
export async function dropSchemas(schemas: Iterable<string>): Promise<void> {
  const client = new pg.Client({ connectionString: POSTGRES_URL });
  await client.connect();
  try {
    for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
  } finally {
    await client.end();
  }
}

/** Opens databases on one engine for a test file; all closed (and dropped) after it. */
export interface EngineFixture {
  readonly engine: 'pglite' | 'postgres';
  /** Opens a database with the test and workflow migrations (a fresh schema unless given). */
  open(schema?: string): Promise<Database>;
}

/** Databases on one engine, opened by the tests of a `describe` and closed (and dropped) after it. */
export function engineFixture(engine: 'pglite' | 'postgres'): EngineFixture {
  let embedded: EmbeddedPostgres | undefined;
  const handles: Database[] = [];
  const schemas = new Set<string>();
  beforeAll(async () => {
    if (engine === 'pglite') embedded = await createEmbeddedPostgres();
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await embedded?.close();
    if (engine === 'postgres' && schemas.size > 0) await dropSchemas(schemas);
  });
  return {
    engine,
    async open(schema = uniqueSchema()) {
      schemas.add(schema);
      const db = await openDatabase({
        logger: silent,
        schema,
        migrations: TEST_MIGRATIONS,
        ...(engine === 'postgres' ? { url: POSTGRES_URL } : { embedded }),
      });
      handles.push(db);
      return db;
    },
  };
}

/** Runs the same suite on PGlite and on PostgreSQL (skipped when down, unless REFRONT_REQUIRE_INFRA=1). */
export function describeEngines(title: string, body: (fx: EngineFixture) => void): void {
  describe(`${title} [pglite]`, () => body(engineFixture('pglite')));
  describe.skipIf(!postgresUp)(`${title} [postgres]`, () => body(engineFixture('postgres')));
}

/** Rows of `effects` (one per execution of a step that writes one). */
export async function effects(db: Database, runId?: string): Promise<{ run_id: string; step: string }[]> {
  const { rows } = await db.query<{ run_id: string; step: string }>(
    `select run_id, step from effects ${runId ? 'where run_id = $1' : ''} order by at, step`,
    runId ? [runId] : [],
  );
  return rows;
}
