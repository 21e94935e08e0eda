/**
 * A module runtime's database and server, instrumented for fault tests: what ran and what
 * committed is counted where it lands, and a fault can be placed right after a COMMIT.
 */
import type { HandlerContext, RpcServer } from '@refront/core';
import type { Database, Transaction } from '@refront/data';

/** What landed on one instance, counted by {@link faultyDatabase} and {@link countingServer}. */
export interface Counters {
  /** Runs of the counted method's handler. */
  runs: number;
  /** Committed transactions that inserted into the watched table. */
  committedInserts: number;
  /** Whether the fault fired on this instance. */
  wasCut: boolean;
}

/**
 * `db`, whose transactions that insert into `table` count their commit in `counters` and await
 * `afterCommit()` (a fault: a relay's cut) after their COMMIT, before returning to the handler.
 *
 * @throws whatever the transaction or `afterCommit` throws.
 * @example
 * const db = faultyDatabase(raw, 'time_entries', counters, () => relay.cut());
 */
export function faultyDatabase(
  db: Database,
  table: string,
  counters: Counters,
  afterCommit: () => Promise<void>,
): Database {
  const insert = new RegExp(`^\\s*insert\\s+into\\s+${table}\\b`, 'i');
  return {
    schema: db.schema,
    engine: db.engine,
    query: (text, params) => db.query(text, params),
    ping: () => db.ping(),
    close: () => db.close(),
    [Symbol.asyncDispose]: () => db.close(),
    async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
      let inserted = false;
      const result = await db.transaction((tx) =>
        fn({
          schema: tx.schema,
          afterCommit: (f) => tx.afterCommit(f),
          query: (text, params) => {
            if (insert.test(text)) inserted = true;
            return tx.query(text, params);
          },
        }),
      );
      if (inserted) {
        counters.committedInserts++;
        await afterCommit();
      }
      return result;
    },
  };
}

/**
 * `server`, counting the handler runs of `method` (the implementation's key) in `counters`; with
 * `strip`, every handler gets its context without the idempotency key, as if the caller sent none.
 *
 * @example
 * await module.register({ ...runtime, server: countingServer(server, 'logTime', counters, false) });
 */
export function countingServer(
  server: RpcServer,
  method: string,
  counters: Counters,
  strip: boolean,
): RpcServer {
  return {
    add(definition, implementation) {
      const counted: Record<string, unknown> = {};
      for (const [key, handler] of Object.entries(implementation)) {
        const fn = handler as (req: unknown, ctx: HandlerContext) => Promise<unknown>;
        counted[key] = (req: unknown, ctx: HandlerContext) => {
          if (key === method) counters.runs++;
          return fn(req, strip ? { ...ctx, idempotencyKey: undefined } : ctx);
        };
      }
      server.add(definition, counted as typeof implementation);
    },
    start: () => server.start(),
    drain: (signal) => server.drain(signal),
    close: () => server.close(),
  };
}
