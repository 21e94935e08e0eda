import { defineErrors } from '@refront/core';
import { reasonsOf } from '@refront/core/transport';

/**
 * The errors `@refront/data` raises, each declared once with its status and meaning (listed in
 * `docs/errors.md#refrontdata`). SQL errors are not among them: they are the engine's
 * `DatabaseError`, with the SQLSTATE in `code`.
 *
 * @example
 * throw DataErrors.INT8_OUT_OF_RANGE('9007199254740993'); // OUT_OF_RANGE DATA_INT8_OUT_OF_RANGE
 * if (DataErrors.MIGRATION_CHANGED.is(e)) process.exit(1);
 */
export const DataErrors = defineErrors('DATA', {
  INVALID_SCHEMA: {
    status: 'INVALID_ARGUMENT',
    message: (schema: unknown) =>
      `invalid schema name ${JSON.stringify(schema)}: expected ^[a-z][a-z0-9_]{0,62}$, not starting with pg_`,
    description:
      'A schema name is not `^[a-z][a-z0-9_]{0,62}$` or starts with the reserved `pg_`; `details.fieldViolations` names `schema`.',
  },
  INVALID_MIGRATION: {
    status: 'INVALID_ARGUMENT',
    message: (problem: string) => problem,
    description:
      'A migration list is malformed: a duplicate or non-positive version, an empty name or empty SQL. Thrown by `openDatabase` before anything is applied.',
  },
  MIGRATION_CHANGED: {
    status: 'FAILED_PRECONDITION',
    message: (version: number, name: string, checksum: string) =>
      `migration ${version} (${name}) was edited after it was applied (checksum ${checksum.slice(0, 12)}… in the ledger); add a new migration instead`,
    description:
      "An applied migration's SQL no longer matches the checksum recorded when it was applied (`details.metadata.version` and `name`); the open fails. Add a new migration instead of editing one.",
  },
  MIGRATION_FAILED: {
    status: 'FAILED_PRECONDITION',
    message: (version: number, name: string, error: unknown) =>
      `migration ${version} (${name}) failed: ${error instanceof Error ? error.message : String(error)}`,
    description:
      "A migration's SQL failed: it was rolled back and later ones were not applied; earlier ones stay applied. `cause` has the SQL error, `details.metadata` the migration's version and name.",
  },
  UNAVAILABLE: {
    status: 'UNAVAILABLE',
    message: (what: string) => `${what}: the database is unreachable`,
    description:
      'The PostgreSQL server cannot be reached (connection refused or reset, shutting down, too many clients); `cause` has the driver error.',
  },
  INT8_OUT_OF_RANGE: {
    status: 'OUT_OF_RANGE',
    message: (value: string) =>
      `int8 value ${value} does not fit a JavaScript number; cast it to text or numeric in SQL`,
    description:
      'An int8 value (`count(*)`, bigserial) does not fit a JavaScript number without losing precision (beyond ±2^53): cast it to `text` or `numeric` in SQL.',
  },
  NESTED_EMBEDDED_CALL: {
    status: 'FAILED_PRECONDITION',
    message:
      'a database call was made from inside a transaction of the same embedded engine and would deadlock: use the transaction (tx.query) instead',
    description:
      'A database handle was used from inside a transaction of the same embedded engine (PGlite runs one at a time, so it would deadlock); thrown after `nestedCallTimeoutMs`. Use the transaction instead.',
  },
  IDEMPOTENCY_KEY_REUSED: {
    status: 'FAILED_PRECONDITION',
    message: (method: string) =>
      `the idempotency key of this ${method} call was used before with a different request`,
    description:
      'An idempotency key was used again with a different request of the same method (`details.metadata.method`); the stored response is not returned.',
  },
  IDEMPOTENCY_IN_PROGRESS: {
    status: 'ABORTED',
    message: (method: string) =>
      `a ${method} call with the same idempotency key is still running; retry for its answer`,
    description:
      'A call with the same idempotency key is still running (`details.metadata.method`); the second call never waits on the first. Retry for its answer.',
  },
  INVALID_PAGE: {
    status: 'INVALID_ARGUMENT',
    message: 'the page request is invalid',
    description:
      "A list request's page size is not 0 to 100, or its page token was not made by `pageOf` (`pageRequest`); `details.fieldViolations` names `pageSize` or `pageToken`.",
  },
});

/**
 * The reason codes of {@link DataErrors}, for comparisons.
 *
 * @example
 * if (isRefrontError(e) && e.reason === DataReason.MIGRATION_CHANGED) process.exit(1);
 */
export const DataReason = reasonsOf(DataErrors);

/** One of the {@link DataReason} codes. */
export type DataReasonCode = (typeof DataReason)[keyof typeof DataReason];

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

/** Turns a connection failure into `DATA_UNAVAILABLE` (retryable); SQL errors pass through unchanged. */
export function mapConnectionError(e: unknown, what: string): unknown {
  return isConnectionError(e) ? DataErrors.UNAVAILABLE.with({ cause: e }, what) : e;
}
