import { RefrontError } from '@refront/core';

/**
 * Reasons raised by `@refront/data`. Each is the `reason` of a {@link RefrontError}; the README
 * has the table of statuses and whether each is retryable.
 *
 * @example
 * if (isRefrontError(e) && e.reason === DataReason.MIGRATION_CHANGED) process.exit(1);
 */
export const DataReason = {
  /** A schema name is not `^[a-z][a-z0-9_]{0,62}$` (or starts with the reserved `pg_`). */
  INVALID_SCHEMA: 'DATA_INVALID_SCHEMA',
  /** A migration list is malformed (duplicate or non-positive version, empty name or SQL). */
  INVALID_MIGRATION: 'DATA_INVALID_MIGRATION',
  /** An applied migration's SQL no longer matches the checksum recorded when it was applied. */
  MIGRATION_CHANGED: 'DATA_MIGRATION_CHANGED',
  /** A migration's SQL failed; it was rolled back and later ones were not applied. */
  MIGRATION_FAILED: 'DATA_MIGRATION_FAILED',
  /** The PostgreSQL server cannot be reached (refused, reset, shutting down, too many clients). */
  UNAVAILABLE: 'DATA_UNAVAILABLE',
  /** An int8 value does not fit a JavaScript number without losing precision. */
  INT8_OUT_OF_RANGE: 'DATA_INT8_OUT_OF_RANGE',
  /** A database handle was used from inside a transaction of the same embedded engine (it would deadlock). */
  NESTED_EMBEDDED_CALL: 'DATA_NESTED_EMBEDDED_CALL',
  /** An idempotency key was used again with a different request (FAILED_PRECONDITION, not retryable). */
  IDEMPOTENCY_KEY_REUSED: 'DATA_IDEMPOTENCY_KEY_REUSED',
  /** A call with the same idempotency key is still running (ABORTED, retryable: retry for its answer). */
  IDEMPOTENCY_IN_PROGRESS: 'DATA_IDEMPOTENCY_IN_PROGRESS',
} as const;

/** One of the {@link DataReason} codes. */
export type DataReasonCode = (typeof DataReason)[keyof typeof DataReason];

/** The INVALID_ARGUMENT error of a bad schema name. */
export function invalidSchema(schema: unknown): RefrontError {
  return new RefrontError(
    'INVALID_ARGUMENT',
    DataReason.INVALID_SCHEMA,
    `invalid schema name ${JSON.stringify(schema)}: expected ^[a-z][a-z0-9_]{0,62}$, not starting with pg_`,
    {
      retryable: false,
      details: { fieldViolations: [{ field: 'schema', description: 'lower-case identifier' }] },
    },
  );
}

/** The INVALID_ARGUMENT error of a malformed migration list. */
export function invalidMigration(message: string): RefrontError {
  return new RefrontError('INVALID_ARGUMENT', DataReason.INVALID_MIGRATION, message, { retryable: false });
}

/** Whether `e` is a connection-level failure rather than an SQL error. */
export function isConnectionError(e: unknown): boolean {
  if (typeof e !== 'object' || e === null) return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code !== 'string') {
    const message = e instanceof Error ? e.message : '';
    return /Connection terminated|connection timeout|Client has encountered a connection error/i.test(
      message,
    );
  }
  // Node socket errors, and SQLSTATE classes 08 (connection), 57P0x (shutdown), 53300 (too many clients).
  return (
    /^E[A-Z]+$/.test(code) ||
    code.startsWith('08') ||
    code === '57P01' ||
    code === '57P02' ||
    code === '57P03' ||
    code === '53300'
  );
}

/** Turns a connection failure into UNAVAILABLE (retryable); SQL errors pass through unchanged. */
export function mapConnectionError(e: unknown, what: string): unknown {
  if (!isConnectionError(e)) return e;
  return new RefrontError('UNAVAILABLE', DataReason.UNAVAILABLE, `${what}: the database is unreachable`, {
    cause: e,
    retryable: true,
  });
}
