import { createHash } from 'node:crypto';
import {
  counterOf,
  type HandlerContext,
  type Logger,
  type MetricsRegistry,
  type RefrontError,
} from '@refront/core';
import { type DeepPartial, invalidOption, type MethodDefinition } from '@refront/core/transport';
import type { Counter } from 'prom-client';
import type { Database, Queryable, Transaction } from './Database.js';
import { DataErrors } from './errors.js';

/** Default time a stored response answers retries, in ms (24 h, as Stripe keeps its keys). */
export const DEFAULT_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60_000;
/** Default time between two prunes of expired responses, in ms. */
export const DEFAULT_IDEMPOTENCY_PRUNE_INTERVAL_MS = 60 * 60_000;

/** What {@link IdempotentRequests.run} reads from the handler's context. */
export type IdempotencyContext = Pick<HandlerContext, 'tenant' | 'idempotencyKey'>;

/**
 * Idempotent request handlers: the response of a keyed call is stored in the transaction of the
 * handler's own writes, so a retry of the call (same tenant, method and idempotency key) gets the
 * first response and the writes happen once.
 *
 * @example
 * const requests = createIdempotentRequests({ db, metrics });
 * requests.start(); // prunes expired responses; close() stops it
 * server.add(TicketsServiceDefinition, {
 *   createTicket: requests.handler(TicketsServiceDefinition.methods.createTicket, async (req, ctx, tx) => {
 *     return { ticket: await insertTicket(tx, ctx.tenant, req) };
 *   }),
 * });
 */
export interface IdempotentRequests {
  /**
   * Runs `fn` in a transaction and stores its response under the context's idempotency key in
   * that transaction; a call with a key already stored for the same request returns the stored
   * response without running `fn`. Without a key `fn` just runs in a transaction. A throw from
   * `fn` rolls back its writes and the record, so a retry runs it again.
   * @throws RefrontError FAILED_PRECONDITION `DATA_IDEMPOTENCY_KEY_REUSED` when the key was stored
   *   for a different request; ABORTED `DATA_IDEMPOTENCY_IN_PROGRESS` (retryable) while another
   *   call with the key runs; whatever `fn` throws.
   */
  run<Req, Res>(
    ctx: IdempotencyContext,
    method: MethodDefinition<Req, Res>,
    request: Req,
    fn: (tx: Transaction) => Promise<DeepPartial<Res>>,
  ): Promise<Res>;
  /**
   * For a handler whose writes span several transactions (a saga): the response stored for the
   * context's key, or undefined when none is (or the call has no key). Pair it with
   * {@link IdempotentRequests.record} in the transaction of the last writes.
   * @throws RefrontError FAILED_PRECONDITION `DATA_IDEMPOTENCY_KEY_REUSED` when the key was stored
   *   for a different request.
   */
  replay<Req, Res>(
    ctx: IdempotencyContext,
    method: MethodDefinition<Req, Res>,
    request: Req,
  ): Promise<Res | undefined>;
  /**
   * Stores `response` under the context's key in `tx` (the transaction of the handler's last
   * writes); returns the complete response. Does nothing but complete it when the call has no key.
   * @throws RefrontError ABORTED `DATA_IDEMPOTENCY_IN_PROGRESS` (retryable) when another call with
   *   the key holds it or already stored its response: `tx` must roll back.
   */
  record<Req, Res>(
    tx: Transaction,
    ctx: IdempotencyContext,
    method: MethodDefinition<Req, Res>,
    request: Req,
    response: DeepPartial<Res>,
  ): Promise<Res>;
  /** Wraps a handler in {@link IdempotentRequests.run}: `requests.handler(method, async (req, ctx, tx) => res)`. */
  handler<Req, Res>(
    method: MethodDefinition<Req, Res>,
    fn: (request: Req, ctx: HandlerContext, tx: Transaction) => Promise<DeepPartial<Res>>,
  ): (request: Req, ctx: HandlerContext) => Promise<Res>;
  /** Deletes responses stored longer ago than `retentionMs`; resolves with how many. */
  prune(): Promise<number>;
  /** Starts pruning every `pruneIntervalMs` (and once now). Idempotent. */
  start(): void;
  /** Stops pruning after the prune in flight. Idempotent. */
  close(): Promise<void>;
  /** Same as {@link IdempotentRequests.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link createIdempotentRequests}. */
export interface IdempotentRequestsOptions {
  /** The service's database (its `refront_idempotent_requests` table). */
  readonly db: Database;
  /** Registry for `refront_idempotent_replays_total{method}`. @default none */
  readonly metrics?: MetricsRegistry | undefined;
  /** Logger for replays (debug) and failed prunes (warn). @default silent */
  readonly logger?: Logger | undefined;
  /** How long a stored response answers retries, in ms. @default DEFAULT_IDEMPOTENCY_RETENTION_MS (24 h) */
  readonly retentionMs?: number;
  /** Time between two prunes once started, in ms. @default DEFAULT_IDEMPOTENCY_PRUNE_INTERVAL_MS (1 h) */
  readonly pruneIntervalMs?: number;
}

function replaysCounter(registry: MetricsRegistry): Counter<'method'> {
  return counterOf(
    registry,
    'refront_idempotent_replays_total',
    'Keyed calls answered with the response stored by their first run, by method',
    ['method'],
  );
}

/** `refront.tickets.v1.CreateTicket`: the method name in its request type's package. */
function methodName(method: MethodDefinition<unknown, unknown>): string {
  const type = method.requestType.$type;
  const dot = type.lastIndexOf('.');
  return dot < 0 ? method.name : `${type.slice(0, dot + 1)}${method.name}`;
}

function keyReused(method: string): RefrontError {
  return DataErrors.IDEMPOTENCY_KEY_REUSED.with({ details: { metadata: { method } } }, method);
}

function inProgress(method: string): RefrontError {
  return DataErrors.IDEMPOTENCY_IN_PROGRESS.with({ details: { metadata: { method } } }, method);
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) throw invalidOption(`${name} must be a number > 0`);
  return value;
}

interface StoredRow {
  fingerprint: Uint8Array;
  response: Uint8Array;
}

/**
 * Creates the idempotent-request store of `db`. On PostgreSQL a second call with a key whose
 * first call is still running fails at once with `DATA_IDEMPOTENCY_IN_PROGRESS` (a transaction
 * advisory lock taken with `pg_try_advisory_xact_lock`, never waited for); on PGlite transactions
 * run one at a time, so it waits its turn and gets the stored response.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a missing db or a non-positive duration.
 * @example
 * const created = await requests.run(ctx, TicketsServiceDefinition.methods.createTicket, req, (tx) => create(tx));
 */
export function createIdempotentRequests(options: IdempotentRequestsOptions): IdempotentRequests {
  const { db, logger } = options;
  if (!db || typeof db.transaction !== 'function') throw invalidOption('db must be a Database');
  const retentionMs = positive('retentionMs', options.retentionMs ?? DEFAULT_IDEMPOTENCY_RETENTION_MS);
  const intervalMs = positive(
    'pruneIntervalMs',
    options.pruneIntervalMs ?? DEFAULT_IDEMPOTENCY_PRUNE_INTERVAL_MS,
  );
  const replays = options.metrics ? replaysCounter(options.metrics) : undefined;
  const table = `"${db.schema}".refront_idempotent_requests`;
  const names = new WeakMap<object, string>();
  const nameOf = (method: MethodDefinition<unknown, unknown>): string => {
    let name = names.get(method);
    if (name === undefined) {
      name = methodName(method);
      names.set(method, name);
    }
    return name;
  };

  /** What identifies a keyed call's record. */
  const keyOf = <Req>(
    ctx: IdempotencyContext,
    method: MethodDefinition<Req, unknown>,
    request: Req,
    key: string,
  ) => ({
    name: nameOf(method as MethodDefinition<unknown, unknown>),
    tenant: ctx.tenant ?? '',
    key,
    fingerprint: createHash('sha256').update(method.requestType.encode(request).finish()).digest(),
  });
  type Key = ReturnType<typeof keyOf>;

  /** Takes the key's transaction lock without waiting; another holder means the call is running. */
  const lock = async (tx: Transaction, k: Key): Promise<void> => {
    const { rows } = await tx.query<{ locked: boolean }>(
      'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS locked',
      [`refront:idempotent:${db.schema}\n${k.tenant}\n${k.name}\n${k.key}`],
    );
    if (rows[0]?.locked !== true) throw inProgress(k.name);
  };

  /** The stored response of `k` (counted as a replay), or undefined. */
  const find = async <Res>(q: Queryable, k: Key, method: MethodDefinition<unknown, Res>) => {
    const { rows } = await q.query<StoredRow>(
      `SELECT fingerprint, response FROM ${table} WHERE tenant = $1 AND method = $2 AND key = $3`,
      [k.tenant, k.name, k.key],
    );
    const row = rows[0];
    if (!row) return undefined;
    if (!Buffer.from(row.fingerprint).equals(k.fingerprint)) throw keyReused(k.name);
    return method.responseType.decode(row.response);
  };

  const insert = async <Res>(
    tx: Transaction,
    k: Key,
    method: MethodDefinition<unknown, Res>,
    response: Res,
  ) => {
    await tx.query(
      `INSERT INTO ${table} (tenant, method, key, fingerprint, response) VALUES ($1, $2, $3, $4, $5)`,
      [k.tenant, k.name, k.key, k.fingerprint, method.responseType.encode(response).finish()],
    );
  };

  const replayed = (k: Key): void => {
    replays?.inc({ method: k.name });
    logger?.debug({ method: k.name, tenant: k.tenant }, 'keyed call answered with its stored response');
  };

  const run = async <Req, Res>(
    ctx: IdempotencyContext,
    method: MethodDefinition<Req, Res>,
    request: Req,
    fn: (tx: Transaction) => Promise<DeepPartial<Res>>,
  ): Promise<Res> => {
    const key = ctx.idempotencyKey;
    if (key === undefined) return db.transaction(async (tx) => method.responseType.fromPartial(await fn(tx)));
    const k = keyOf(ctx, method, request, key);
    const outcome = await db.transaction(async (tx) => {
      await lock(tx, k);
      const stored = await find(tx, k, method);
      if (stored !== undefined) return { replayed: true, response: stored };
      const response = method.responseType.fromPartial(await fn(tx));
      await insert(tx, k, method, response);
      return { replayed: false, response };
    });
    if (outcome.replayed) replayed(k);
    return outcome.response;
  };

  const replay = async <Req, Res>(
    ctx: IdempotencyContext,
    method: MethodDefinition<Req, Res>,
    request: Req,
  ): Promise<Res | undefined> => {
    const key = ctx.idempotencyKey;
    if (key === undefined) return undefined;
    const k = keyOf(ctx, method, request, key);
    const stored = await find(db, k, method);
    if (stored !== undefined) replayed(k);
    return stored;
  };

  const record = async <Req, Res>(
    tx: Transaction,
    ctx: IdempotencyContext,
    method: MethodDefinition<Req, Res>,
    request: Req,
    partial: DeepPartial<Res>,
  ): Promise<Res> => {
    const response = method.responseType.fromPartial(partial);
    const key = ctx.idempotencyKey;
    if (key === undefined) return response;
    const k = keyOf(ctx, method, request, key);
    await lock(tx, k);
    // Stored meanwhile by another call with the key: this one's writes must not commit.
    if ((await find(tx, k, method)) !== undefined) throw inProgress(k.name);
    await insert(tx, k, method, response);
    return response;
  };

  const prune = async (): Promise<number> => {
    const { rowCount } = await db.query(
      `DELETE FROM ${table} WHERE created_at < now() - ($1::bigint * interval '1 millisecond')`,
      [Math.round(retentionMs)],
    );
    return rowCount;
  };

  let timer: NodeJS.Timeout | undefined;
  let pruning: Promise<void> | undefined;
  let closed: Promise<void> | undefined;
  const tick = (): void => {
    if (closed || pruning) return;
    pruning = prune()
      .then(
        (n) => void (n > 0 && logger?.debug({ deleted: n }, 'expired idempotent responses pruned')),
        (e: unknown) => logger?.warn({ err: e }, 'pruning idempotent responses failed; will retry'),
      )
      .finally(() => {
        pruning = undefined;
      });
  };

  return {
    run,
    replay,
    record,
    handler: (method, fn) => (request, ctx) => run(ctx, method, request, (tx) => fn(request, ctx, tx)),
    prune,
    start() {
      if (timer || closed) return;
      timer = setInterval(tick, intervalMs);
      timer.unref();
      tick();
    },
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        await pruning;
      })();
      return closed;
    },
    [Symbol.asyncDispose]() {
      return this.close();
    },
  };
}
