import type { Logger } from '@refront/core';
import pg from 'pg';
import type { Database, QueryResult, Transaction } from '../Database.js';
import { mapConnectionError } from '../errors.js';
import { closedError, TransactionHandle } from './TransactionHandle.js';
import { pgParserFor } from './typeParsers.js';

/** Options of a {@link PostgresDatabase}. */
export interface PostgresDatabaseOptions {
  readonly url: string;
  readonly schema: string;
  readonly poolSize: number;
  readonly connectTimeoutMs: number;
  readonly logger?: Logger | undefined;
}

/** Type parsers of our pools: ours where engines would differ, pg's for the rest; never global. */
const types = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    if (format !== 'binary') {
      const parser = pgParserFor(oid);
      if (parser) return parser;
    }
    return pg.types.getTypeParser(oid, format);
  },
};

function toResult<R>(r: pg.QueryResult): QueryResult<R> {
  return { rows: r.rows as R[], rowCount: r.rowCount ?? r.rows.length };
}

/** A service schema on a PostgreSQL server, through its own pg Pool. */
export class PostgresDatabase implements Database {
  readonly engine = 'postgres' as const;
  readonly schema: string;
  private readonly pool: pg.Pool;
  private readonly logger: Logger | undefined;
  private closing: Promise<void> | undefined;

  constructor(options: PostgresDatabaseOptions) {
    this.schema = options.schema;
    this.logger = options.logger;
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize,
      connectionTimeoutMillis: options.connectTimeoutMs,
      // Every connection resolves unqualified names in the service schema only, in UTC.
      options: `-c search_path=${options.schema} -c TimeZone=UTC`,
      types,
    });
    // An idle client losing its connection must not crash the process; the pool replaces it.
    this.pool.on('error', (e) =>
      this.logger?.warn({ err: e, schema: this.schema }, 'idle PostgreSQL connection failed'),
    );
  }

  async query<R = Record<string, unknown>>(
    text: string,
    params: readonly unknown[] = [],
  ): Promise<QueryResult<R>> {
    if (this.closing) throw closedError();
    try {
      return toResult<R>(await this.pool.query(text, params as unknown[]));
    } catch (e: unknown) {
      throw mapConnectionError(e, 'query failed');
    }
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.internalTransaction(fn);
  }

  async internalTransaction<T>(fn: (tx: TransactionHandle) => Promise<T>): Promise<T> {
    if (this.closing) throw closedError();
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (e: unknown) {
      throw mapConnectionError(e, 'transaction failed');
    }
    const tx = new TransactionHandle(this.schema, {
      query: async (text, params) => toResult(await client.query(text, params as unknown[])),
      exec: async (sql) => {
        await client.query(sql);
      },
    });
    let result: T;
    try {
      await client.query('BEGIN');
      result = await fn(tx);
      tx.end();
      await client.query('COMMIT');
    } catch (e: unknown) {
      tx.end();
      try {
        await client.query('ROLLBACK');
        client.release();
      } catch (rollbackError: unknown) {
        client.release(rollbackError instanceof Error ? rollbackError : true); // discard the connection
      }
      throw mapConnectionError(e, 'transaction failed');
    }
    client.release();
    tx.committed(this.logger);
    return result;
  }

  async ping(): Promise<void> {
    await this.query('select 1');
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
