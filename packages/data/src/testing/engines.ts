import { randomBytes } from 'node:crypto';
import { createLogger, type Logger } from '@refront/core';
import { findInfra, infraUrl } from '@refront/core/transport';
import pg from 'pg';
import { afterAll, beforeAll, describe } from 'vitest';
import type { Database, OpenDatabaseOptions } from '../Database.js';
import {
  createEmbeddedPostgres,
  type EmbeddedPostgres,
  type EmbeddedPostgresOptions,
} from '../EmbeddedPostgres.js';
import { openDatabase } from '../openDatabase.js';

const found = await findInfra('postgres');
/** The PostgreSQL server the tests use (core's one probe, `findInfra`). */
export const POSTGRES_URL: string = found ?? infraUrl('postgres');
/** Whether it answers (probed once per test file; with REFRONT_REQUIRE_INFRA=1 a missing server fails instead). */
export const postgresUp: boolean = found !== undefined;

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
