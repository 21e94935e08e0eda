import type { Transaction as PGliteTransaction, Results } from '@electric-sql/pglite';
import type { Logger } from '@refront/core';
import type { Database, QueryResult, Transaction } from '../Database.js';
import type { EmbeddedEngine } from '../EmbeddedPostgres.js';
import { closedError, TransactionHandle } from './TransactionHandle.js';

function toResult<R>(r: Results): QueryResult<R> {
  return { rows: r.rows as R[], rowCount: r.affectedRows || r.rows.length };
}

/** Statements that may change the session's search_path (so the engine sets it again next time). */
const SEARCH_PATH = /search_path/i;

/** A service schema on a (possibly shared) PGlite engine. */
export class EmbeddedDatabase implements Database {
  readonly engine = 'pglite' as const;
  private closing: Promise<void> | undefined;

  constructor(
    readonly schema: string,
    /** @internal the engine; shared by other schemas unless `owned`. */
    readonly embedded: EmbeddedEngine,
    private readonly owned: boolean,
    private readonly logger: Logger | undefined,
  ) {}

  query<R = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    if (this.closing) return Promise.reject(closedError());
    return this.embedded.run(
      this.schema,
      async (pg) => toResult<R>(await pg.query(text, params as unknown[])),
      () => SEARCH_PATH.test(text),
    );
  }

  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.internalTransaction(fn);
  }

  async internalTransaction<T>(fn: (tx: TransactionHandle) => Promise<T>): Promise<T> {
    if (this.closing) throw closedError();
    let touched = false;
    let handle: TransactionHandle | undefined;
    const result = await this.embedded.run(
      this.schema,
      (pg) =>
        pg.transaction(async (ptx: PGliteTransaction) => {
          handle = new TransactionHandle(this.schema, {
            query: async (text, params) => {
              if (SEARCH_PATH.test(text)) touched = true;
              return toResult(await ptx.query(text, params as unknown[]));
            },
            exec: async (sql) => {
              if (SEARCH_PATH.test(sql)) touched = true;
              await ptx.exec(sql);
            },
          });
          try {
            return await fn(handle);
          } finally {
            handle.end();
          }
        }),
      () => touched,
    );
    handle?.committed(this.logger);
    return result;
  }

  async ping(): Promise<void> {
    await this.query('select 1');
  }

  close(): Promise<void> {
    this.closing ??= this.owned ? this.embedded.close() : Promise.resolve();
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
