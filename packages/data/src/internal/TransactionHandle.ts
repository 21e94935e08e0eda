import { CoreErrors, type Logger, type RefrontError } from '@refront/core';
import type { QueryResult, Transaction } from '../Database.js';

/** What a transaction runs its statements on (a pg client or a PGlite transaction). */
export interface StatementRunner {
  query(text: string, params: readonly unknown[]): Promise<QueryResult<never>>;
  /** Runs several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

/** A transaction handed to user code; refuses statements once it has ended. */
export class TransactionHandle implements Transaction {
  private readonly callbacks: (() => void)[] = [];
  private ended = false;

  constructor(
    readonly schema: string,
    private readonly runner: StatementRunner,
  ) {}

  query<R = Record<string, unknown>>(text: string, params: readonly unknown[] = []): Promise<QueryResult<R>> {
    if (this.ended) return Promise.reject(endedError());
    return this.runner.query(text, params) as Promise<QueryResult<R>>;
  }

  /** Runs several statements (migrations). */
  exec(sql: string): Promise<void> {
    if (this.ended) return Promise.reject(endedError());
    return this.runner.exec(sql);
  }

  afterCommit(fn: () => void): void {
    if (this.ended) throw endedError();
    this.callbacks.push(fn);
  }

  /** Marks the transaction over; later statements fail. */
  end(): void {
    this.ended = true;
  }

  /** Runs the after-commit callbacks; a throwing one is logged and does not stop the others. */
  committed(logger: Logger | undefined): void {
    for (const fn of this.callbacks.splice(0)) {
      try {
        fn();
      } catch (e: unknown) {
        logger?.warn({ err: e }, 'an afterCommit callback threw');
      }
    }
  }
}

function endedError(): RefrontError {
  return CoreErrors.CLOSED('the transaction');
}

/** The error of a call on a closed database handle. */
export function closedError(): RefrontError {
  return CoreErrors.CLOSED('the database handle');
}
