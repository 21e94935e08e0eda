import type { Logger, MetricsRegistry } from '@refront/core';
import type { EmbeddedPostgres } from './EmbeddedPostgres.js';

/** Rows of a query. */
export interface QueryResult<R> {
  /** The rows returned (empty for statements without RETURNING). */
  readonly rows: R[];
  /** Rows returned by a SELECT, or rows affected by INSERT/UPDATE/DELETE. */
  readonly rowCount: number;
}

/**
 * Anything that runs SQL ($1, $2 … placeholders): a database or a transaction.
 *
 * @example
 * const { rows } = await db.query<{ id: string }>('select id from tickets where status = $1', ['open']);
 */
export interface Queryable {
  /**
   * Runs one SQL statement with parameters.
   * @throws the engine's DatabaseError for SQL errors (`code` is the SQLSTATE, on both engines);
   *   RefrontError UNAVAILABLE `DATA_UNAVAILABLE` when the server cannot be reached.
   */
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** A transaction: every query on it commits or rolls back together. */
export interface Transaction extends Queryable {
  /** The service schema this transaction's unqualified names resolve to. */
  readonly schema: string;
  /** Runs `fn` after a successful COMMIT (not on rollback). Used by the outbox to wake its relay. */
  afterCommit(fn: () => void): void;
}

/**
 * One service's database: its own schema, on an embedded PGlite or a PostgreSQL server.
 *
 * @example
 * await using db = await openDatabase({ schema: 'tickets', url: process.env.DATABASE_URL });
 * await db.transaction(async (tx) => {
 *   await tx.query('insert into tickets (id, title) values ($1, $2)', [id, title]);
 * });
 */
export interface Database extends Queryable {
  /** The schema this database's unqualified names resolve to. */
  readonly schema: string;
  /** Which engine runs it. */
  readonly engine: 'pglite' | 'postgres';
  /**
   * Runs fn in a transaction (BEGIN … COMMIT, ROLLBACK on throw; rethrows).
   * On an embedded engine transactions of every schema run one at a time: do not await
   * another query of the same engine inside `fn` except through `tx`.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Readiness probe: resolves when the database answers `select 1`. */
  ping(): Promise<void>;
  /** Releases this handle (the pool for PostgreSQL; nothing for a shared embedded engine). Idempotent. */
  close(): Promise<void>;
  /** Same as {@link Database.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A versioned migration. Versions are applied in ascending order, each once, in a transaction. */
export interface Migration {
  /** Positive integer, unique in the list; applied in ascending order. */
  readonly version: number;
  /** Short description, recorded in the ledger. */
  readonly name: string;
  /** SQL to run (several statements allowed); unqualified names land in the service schema. */
  readonly sql: string;
}

/** Options of {@link openDatabase}. */
export interface OpenDatabaseOptions {
  /** Schema the service owns (created if missing); `^[a-z][a-z0-9_]{0,62}$`, not starting with `pg_`. */
  readonly schema: string;
  /** PostgreSQL URL (postgres://…); when set, a pg Pool is used. Typically DATABASE_URL. */
  readonly url?: string | undefined;
  /** Shared embedded engine, used when `url` is not set. When neither is set a private in-memory PGlite is opened. */
  readonly embedded?: EmbeddedPostgres | undefined;
  /** Service migrations, applied at open. @default [] */
  readonly migrations?: readonly Migration[];
  /** Logger for migrations and pool errors. @default silent */
  readonly logger?: Logger;
  /** Registry for metrics. @default none */
  readonly metrics?: MetricsRegistry;
  /** pg pool size (PostgreSQL only). @default 10 */
  readonly poolSize?: number;
  /** Time to wait for a pooled connection, in ms (PostgreSQL only). @default 10000 */
  readonly connectTimeoutMs?: number;
}

/** Default pg pool size per Database. */
export const DEFAULT_POOL_SIZE = 10;
/** Default time to wait for a pooled PostgreSQL connection, in ms. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
/** What a schema name must look like. */
export const SCHEMA_NAME = /^[a-z][a-z0-9_]{0,62}$/;

/** Whether `schema` is a valid service schema name. */
export function isValidSchemaName(schema: unknown): schema is string {
  return typeof schema === 'string' && SCHEMA_NAME.test(schema) && !schema.startsWith('pg_');
}
