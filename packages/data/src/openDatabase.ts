import { invalidOption } from '@refront/core/transport';
import {
  type Database,
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_POOL_SIZE,
  isValidSchemaName,
  type OpenDatabaseOptions,
} from './Database.js';
import { createEmbeddedPostgres, EmbeddedEngine } from './EmbeddedPostgres.js';
import { DataErrors } from './errors.js';
import { EmbeddedDatabase } from './internal/EmbeddedDatabase.js';
import { migrate, sortedMigrations } from './internal/migrate.js';
import { PostgresDatabase } from './internal/PostgresDatabase.js';

/**
 * Opens a service's database: creates its schema, the refront_* tables (migrations ledger, outbox,
 * inbox) and applies `migrations` (checksummed: an edited applied migration is an error; concurrent
 * instances serialise on an advisory lock). Unqualified names resolve to the service schema.
 *
 * Engine: PostgreSQL through a pg Pool when `url` is set, else the shared `embedded` PGlite, else a
 * private in-memory PGlite (closed with the database).
 *
 * @throws RefrontError INVALID_ARGUMENT `DATA_INVALID_SCHEMA` / `DATA_INVALID_MIGRATION` / `CORE_INVALID_OPTION`;
 *   FAILED_PRECONDITION `DATA_MIGRATION_CHANGED` / `DATA_MIGRATION_FAILED`; UNAVAILABLE `DATA_UNAVAILABLE`.
 * @example
 * const db = await openDatabase({
 *   schema: 'tickets',
 *   url: process.env.DATABASE_URL,
 *   embedded, // used when DATABASE_URL is not set
 *   migrations: [{ version: 1, name: 'tickets', sql: 'create table tickets (id text primary key, title text not null)' }],
 * });
 */
export async function openDatabase(options: OpenDatabaseOptions): Promise<Database> {
  if (!isValidSchemaName(options.schema)) {
    throw DataErrors.INVALID_SCHEMA.with(
      { details: { fieldViolations: [{ field: 'schema', description: 'lower-case identifier' }] } },
      options.schema,
    );
  }
  const migrations = sortedMigrations(options.migrations ?? []);
  const poolSize = options.poolSize ?? DEFAULT_POOL_SIZE;
  if (!Number.isSafeInteger(poolSize) || poolSize < 1) throw invalidOption('poolSize must be an integer ≥ 1');
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  if (!Number.isFinite(connectTimeoutMs) || connectTimeoutMs <= 0)
    throw invalidOption('connectTimeoutMs must be a number > 0');
  if (
    options.url !== undefined &&
    (typeof options.url !== 'string' || !/^postgres(ql)?:\/\//.test(options.url))
  )
    throw invalidOption('url must be a postgres:// or postgresql:// URL');
  if (options.embedded !== undefined && !(options.embedded instanceof EmbeddedEngine))
    throw invalidOption('embedded must come from createEmbeddedPostgres() of this package');

  let db: PostgresDatabase | EmbeddedDatabase;
  if (options.url) {
    db = new PostgresDatabase({
      url: options.url,
      schema: options.schema,
      poolSize,
      connectTimeoutMs,
      logger: options.logger,
    });
  } else if (options.embedded) {
    db = new EmbeddedDatabase(options.schema, options.embedded, false, options.logger);
  } else {
    const engine = (await createEmbeddedPostgres()) as EmbeddedEngine;
    db = new EmbeddedDatabase(options.schema, engine, true, options.logger);
  }
  try {
    await migrate(db, migrations, options.logger);
  } catch (e: unknown) {
    await db.close().catch(() => undefined);
    throw e;
  }
  return db;
}
