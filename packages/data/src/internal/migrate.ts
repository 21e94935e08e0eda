import { createHash } from 'node:crypto';
import type { Logger, RefrontError } from '@refront/core';
import type { Migration } from '../Database.js';
import { DataErrors } from '../errors.js';
import type { TransactionHandle } from './TransactionHandle.js';

/** What the migrator needs from a database: transactions that can run several statements. */
export interface MigratableDatabase {
  readonly schema: string;
  internalTransaction<T>(fn: (tx: TransactionHandle) => Promise<T>): Promise<T>;
}

/** The checksum recorded for a migration: sha256 of its SQL, line endings normalised, trimmed. */
export function migrationChecksum(sql: string): string {
  return createHash('sha256').update(sql.replace(/\r\n/g, '\n').trim()).digest('hex');
}

/** Validates a migration list and returns it sorted by version. */
export function sortedMigrations(migrations: readonly Migration[]): Migration[] {
  const seen = new Set<number>();
  for (const m of migrations) {
    if (typeof m !== 'object' || m === null)
      throw DataErrors.INVALID_MIGRATION('each migration must be an object');
    if (!Number.isSafeInteger(m.version) || m.version <= 0 || m.version > 2_147_483_647)
      throw DataErrors.INVALID_MIGRATION(
        `migration version ${String(m.version)} must be a positive 32-bit integer`,
      );
    if (seen.has(m.version))
      throw DataErrors.INVALID_MIGRATION(`migration version ${m.version} appears twice`);
    seen.add(m.version);
    if (typeof m.name !== 'string' || m.name.trim() === '')
      throw DataErrors.INVALID_MIGRATION(`migration ${m.version} needs a name`);
    if (typeof m.sql !== 'string' || m.sql.trim() === '')
      throw DataErrors.INVALID_MIGRATION(`migration ${m.version} (${m.name}) has no SQL`);
  }
  return [...migrations].sort((a, b) => a.version - b.version);
}

/** DDL of the tables every service schema gets. Idempotent. */
function bootstrapSql(schema: string): string {
  const q = `"${schema}"`;
  return `
CREATE SCHEMA IF NOT EXISTS ${q};
CREATE TABLE IF NOT EXISTS ${q}.refront_migrations (
  version integer PRIMARY KEY,
  name text NOT NULL,
  checksum text NOT NULL,
  applied_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${q}.refront_outbox (
  seq bigserial PRIMARY KEY,
  id text NOT NULL,
  key text,
  envelope jsonb NOT NULL,
  body bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS ${q}.refront_inbox (
  group_name text NOT NULL,
  message_id text NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (group_name, message_id)
);
CREATE TABLE IF NOT EXISTS ${q}.refront_idempotent_requests (
  tenant text NOT NULL,
  method text NOT NULL,
  key text NOT NULL,
  fingerprint bytea NOT NULL,
  response bytea NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant, method, key)
);
CREATE INDEX IF NOT EXISTS refront_idempotent_requests_created_at
  ON ${q}.refront_idempotent_requests (created_at);`;
}

/** Serialises schema changes of one schema across processes (transaction-scoped: released at COMMIT). */
async function lockSchema(tx: TransactionHandle): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [`refront:migrate:${tx.schema}`]);
}

interface LedgerRow {
  version: number;
  name: string;
  checksum: string;
}

function changedError(m: Migration, row: LedgerRow): RefrontError {
  return DataErrors.MIGRATION_CHANGED.with({ details: migrationDetails(m) }, m.version, m.name, row.checksum);
}

/** Which migration an error is about, for `details.metadata`. */
function migrationDetails(m: Migration): { metadata: Record<string, string> } {
  return { metadata: { version: String(m.version), name: m.name } };
}

/**
 * Creates the schema and the refront_* tables, checks the checksums of applied migrations and
 * applies the pending ones in ascending order, each in its own transaction under an advisory
 * lock, so concurrent instances apply each migration once.
 */
export async function migrate(
  db: MigratableDatabase,
  migrations: readonly Migration[],
  logger?: Logger,
): Promise<void> {
  const list = sortedMigrations(migrations);
  const ledger = `"${db.schema}".refront_migrations`;
  const applied = await db.internalTransaction(async (tx) => {
    await lockSchema(tx);
    await tx.exec(bootstrapSql(db.schema));
    const { rows } = await tx.query<LedgerRow>(
      `SELECT version, name, checksum FROM ${ledger} ORDER BY version`,
    );
    return new Map(rows.map((r) => [r.version, r]));
  });
  for (const m of list) {
    const row = applied.get(m.version);
    if (row && row.checksum !== migrationChecksum(m.sql)) throw changedError(m, row);
  }
  for (const m of list) {
    if (applied.has(m.version)) continue;
    await db.internalTransaction(async (tx) => {
      await lockSchema(tx);
      const { rows } = await tx.query<LedgerRow>(
        `SELECT version, name, checksum FROM ${ledger} WHERE version = $1`,
        [m.version],
      );
      const done = rows[0];
      if (done) {
        if (done.checksum !== migrationChecksum(m.sql)) throw changedError(m, done);
        return; // another instance applied it while we waited for the lock
      }
      try {
        await tx.exec(m.sql);
      } catch (e: unknown) {
        throw DataErrors.MIGRATION_FAILED.with(
          { cause: e, details: migrationDetails(m) },
          m.version,
          m.name,
          e,
        );
      }
      await tx.query(`INSERT INTO ${ledger} (version, name, checksum) VALUES ($1, $2, $3)`, [
        m.version,
        m.name,
        migrationChecksum(m.sql),
      ]);
      // Not `version`: the service logger's lines already carry the service's version under that key.
      logger?.info(
        { schema: db.schema, migration_version: m.version, migration: m.name },
        'migration applied',
      );
    });
  }
}
