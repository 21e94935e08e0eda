import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '@refront/core';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Database, OpenDatabaseOptions } from '../Database.js';
import {
  createEmbeddedPostgres,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
} from '../EmbeddedPostgres.js';
import { openDatabase } from '../openDatabase.js';

/** The PostgreSQL server the tests use. */
export const POSTGRES_URL =
  process.env.REFRONT_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';

async function probePostgres(): Promise<boolean> {
  const client = new pg.Client({ connectionString: POSTGRES_URL, connectionTimeoutMillis: 2_000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch (e: unknown) {
    const why = e instanceof Error ? e.message : String(e);
    if (process.env.REFRONT_REQUIRE_INFRA === '1') {
      throw new Error(`PostgreSQL at ${POSTGRES_URL} is unreachable (${why}) and REFRONT_REQUIRE_INFRA=1`);
    }
    console.warn(
      `[data] skipping PostgreSQL tests: ${POSTGRES_URL} is unreachable (${why}). Start it with ` +
        '`pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start`.',
    );
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** Whether PostgreSQL answers (probed once per test file; throws when required and down). */
export const postgresUp: boolean = await probePostgres();

/** A random schema name for one test. */
export function uniqueSchema(prefix = 't'): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A logger that drops everything. */
export const silent: Logger = createLogger({ service: 'data-test', level: 'silent' });

/** Opens databases on one engine for a test file; everything is closed (and dropped) after it. */
export interface EngineFixture {
  readonly engine: 'pglite' | 'postgres';
  /** Opens a database on `schema` (a fresh unique one by default). */
  open(options?: Partial<OpenDatabaseOptions>): Promise<Database>;
  /** The shared embedded engine (PGlite only). */
  readonly embedded: EmbeddedPostgres | undefined;
}

function fixture(engine: 'pglite' | 'postgres', embeddedOptions: EmbeddedPostgresOptions): EngineFixture {
  let embedded: EmbeddedPostgres | undefined;
  const handles: Database[] = [];
  const schemas = new Set<string>();
  beforeAll(async () => {
    if (engine === 'pglite') embedded = await createEmbeddedPostgres(embeddedOptions);
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    await embedded?.close();
    if (engine === 'postgres' && schemas.size > 0) {
      const client = new pg.Client({ connectionString: POSTGRES_URL });
      await client.connect();
      try {
        for (const s of schemas) await client.query(`DROP SCHEMA IF EXISTS "${s}" CASCADE`);
      } finally {
        await client.end();
      }
    }
  });
  return {
    engine,
    get embedded() {
      return embedded;
    },
    async open(options = {}) {
      const schema = options.schema ?? uniqueSchema();
      schemas.add(schema);
      const db = await openDatabase({
        logger: silent,
        ...options,
        schema,
        ...(engine === 'postgres' ? { url: POSTGRES_URL } : { embedded }),
      });
      handles.push(db);
      return db;
    },
  };
}

/**
 * Runs the same suite on PGlite (one engine per call) and on PostgreSQL (skipped with a message
 * when the server is down, unless REFRONT_REQUIRE_INFRA=1).
 */
export function describeEngines(
  title: string,
  body: (fx: EngineFixture) => void,
  embeddedOptions: EmbeddedPostgresOptions = {},
): void {
  describe(`${title} [pglite]`, () => body(fixture('pglite', embeddedOptions)));
  describe.skipIf(!postgresUp)(`${title} [postgres]`, () => body(fixture('postgres', embeddedOptions)));
}
