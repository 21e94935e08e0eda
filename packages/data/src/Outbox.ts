import type { EventBus, Logger, MessageType, MetricsRegistry, PublishOptions } from '@refront/core';
import {
  type DeepPartial,
  type EventEnvelope,
  encodeEvent,
  invalidOption,
  sleep,
} from '@refront/core/transport';
import type { Database, Transaction } from './Database.js';
import { EmbeddedDatabase } from './internal/EmbeddedDatabase.js';
import { type OutboxMetrics, outboxMetrics } from './internal/outboxMetrics.js';

/**
 * Transactional outbox: events stored with the state change, published after commit by a relay.
 *
 * @example
 * await db.transaction(async (tx) => {
 *   await tx.query('insert into tickets (id, title) values ($1, $2)', [id, title]);
 *   await outbox.add(tx, TicketCreated, { ticketId: id, title }, { key: id });
 * }); // the relay publishes TicketCreated after COMMIT
 */
export interface Outbox {
  /**
   * Stores an event in `tx` (encoded by core's encodeEvent: trace, tenant, causation taken from context).
   * @throws RefrontError INVALID_ARGUMENT when `tx` belongs to another schema than the outbox's database.
   */
  add<T>(
    tx: Transaction,
    type: MessageType<T>,
    event: DeepPartial<T>,
    options?: PublishOptions,
  ): Promise<EventEnvelope>;
  /** Starts the relay (woken on commit, and polling every pollIntervalMs as a fallback). */
  start(): void;
  /**
   * Publishes everything pending now; resolves when none is left (or throws the publish error).
   * Waits while another instance holds the relay lock.
   */
  flush(options?: { readonly signal?: AbortSignal }): Promise<void>;
  /** Events stored but not yet published. */
  pending(): Promise<number>;
  /** Stops the relay after the batch in flight. Idempotent. */
  close(): Promise<void>;
  /** Same as {@link Outbox.close}. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** Options of {@link createOutbox}. */
export interface OutboxOptions {
  /** The service's database; events go to its `refront_outbox` table. */
  readonly db: Database;
  /** Publishing service name (envelope.source). */
  readonly source: string;
  /** Where events go: any core EventBus (in-process or AMQP). */
  readonly publisher: Pick<EventBus, 'publishRaw'>;
  /** Logger for publish failures. @default silent */
  readonly logger?: Logger;
  /** Registry for `refront_outbox_published_total`, `refront_outbox_publish_failures_total`, `refront_outbox_pending`. @default none */
  readonly metrics?: MetricsRegistry;
  /** Polling interval of the relay, in ms (commits wake it at once). @default 1000 */
  readonly pollIntervalMs?: number;
  /** Events read and published per relay batch. @default 100 */
  readonly batchSize?: number;
  /** First delay after a failed pass, in ms; doubles per failure. @default 100 */
  readonly minBackoffMs?: number;
  /** Longest delay between failed passes, in ms. @default 30000 */
  readonly maxBackoffMs?: number;
  /** Time allowed for one publishRaw, in ms; then the pass fails and backs off. @default 30000 */
  readonly publishTimeoutMs?: number;
}

/** Default relay polling interval, in ms. */
export const DEFAULT_OUTBOX_POLL_INTERVAL_MS = 1_000;
/** Default events per relay batch. */
export const DEFAULT_OUTBOX_BATCH_SIZE = 100;
/** Default first backoff after a failed relay pass, in ms. */
export const DEFAULT_OUTBOX_MIN_BACKOFF_MS = 100;
/** Default longest backoff between failed relay passes, in ms. */
export const DEFAULT_OUTBOX_MAX_BACKOFF_MS = 30_000;
/** Default time allowed for one publish, in ms. */
export const DEFAULT_OUTBOX_PUBLISH_TIMEOUT_MS = 30_000;

interface OutboxRow {
  seq: number;
  envelope: EventEnvelope;
  body: Uint8Array;
}

/** What one relay batch did. */
interface BatchResult {
  /** Another relay holds the lock. */
  readonly busy: boolean;
  readonly seen: number;
  readonly published: number;
  readonly error?: unknown;
}

/** Relays running on in-process engines, per engine and schema (one at a time). */
const embeddedRelays = new WeakMap<object, Set<string>>();

function positive(name: string, value: number, min = 1): number {
  if (!Number.isFinite(value) || value < min) throw invalidOption(`${name} must be a number ≥ ${min}`);
  return value;
}

class OutboxRelay implements Outbox {
  private readonly db: Database;
  private readonly table: string;
  private readonly pollIntervalMs: number;
  private readonly batchSize: number;
  private readonly minBackoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly publishTimeoutMs: number;
  private readonly metrics: OutboxMetrics | undefined;
  private started = false;
  private closed: Promise<void> | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private timer: NodeJS.Timeout | undefined;
  private backoffMs = 0;

  constructor(private readonly options: OutboxOptions) {
    if (!options.db || typeof options.db.transaction !== 'function')
      throw invalidOption('db must be a Database');
    if (typeof options.source !== 'string' || options.source === '')
      throw invalidOption('source must be a service name');
    if (typeof options.publisher?.publishRaw !== 'function')
      throw invalidOption('publisher must have publishRaw');
    this.db = options.db;
    this.table = `"${this.db.schema}".refront_outbox`;
    this.pollIntervalMs = positive(
      'pollIntervalMs',
      options.pollIntervalMs ?? DEFAULT_OUTBOX_POLL_INTERVAL_MS,
    );
    this.batchSize = positive('batchSize', options.batchSize ?? DEFAULT_OUTBOX_BATCH_SIZE);
    if (!Number.isInteger(this.batchSize)) throw invalidOption('batchSize must be an integer');
    this.minBackoffMs = positive('minBackoffMs', options.minBackoffMs ?? DEFAULT_OUTBOX_MIN_BACKOFF_MS);
    this.maxBackoffMs = positive(
      'maxBackoffMs',
      options.maxBackoffMs ?? DEFAULT_OUTBOX_MAX_BACKOFF_MS,
      this.minBackoffMs,
    );
    this.publishTimeoutMs = positive(
      'publishTimeoutMs',
      options.publishTimeoutMs ?? DEFAULT_OUTBOX_PUBLISH_TIMEOUT_MS,
    );
    this.metrics = options.metrics ? outboxMetrics(options.metrics) : undefined;
    this.metrics?.sources.set(this.db.schema, () => this.pending());
  }

  async add<T>(
    tx: Transaction,
    type: MessageType<T>,
    event: DeepPartial<T>,
    options?: PublishOptions,
  ): Promise<EventEnvelope> {
    options?.signal?.throwIfAborted();
    if (tx.schema !== this.db.schema)
      throw invalidOption(`the transaction is on schema ${tx.schema}, the outbox on ${this.db.schema}`);
    const { envelope, body } = encodeEvent(this.options.source, type, event, options);
    await tx.query(`INSERT INTO ${this.table} (id, key, envelope, body) VALUES ($1, $2, $3::jsonb, $4)`, [
      envelope.id,
      envelope.key ?? null,
      JSON.stringify(envelope),
      body,
    ]);
    tx.afterCommit(() => this.wake());
    return envelope;
  }

  start(): void {
    if (this.closed || this.started) return;
    this.started = true;
    this.kick();
  }

  async flush(options: { readonly signal?: AbortSignal } = {}): Promise<void> {
    for (;;) {
      options.signal?.throwIfAborted();
      const r = await this.batch();
      if (r.error !== undefined) throw r.error;
      if (r.busy) await sleep(20, options.signal);
      else if (r.seen < this.batchSize) return;
    }
  }

  async pending(): Promise<number> {
    const { rows } = await this.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${this.table}`);
    return rows[0]?.n ?? 0;
  }

  close(): Promise<void> {
    this.closed ??= (async () => {
      clearTimeout(this.timer);
      if (this.metrics?.sources.get(this.db.schema)) this.metrics.sources.delete(this.db.schema);
      await this.running;
    })();
    return this.closed;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  /** A commit added events: relay now, unless backing off after a failure. */
  private wake(): void {
    if (this.started && !this.closed && this.backoffMs === 0) this.kick();
  }

  private kick(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    clearTimeout(this.timer);
    this.running = this.pass().finally(() => {
      this.running = undefined;
      if (this.again && this.backoffMs === 0) {
        this.again = false;
        this.kick();
      }
    });
  }

  private schedule(ms: number): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.kick(), ms);
    this.timer.unref();
  }

  /** Relays batches until the outbox is drained, then sleeps until polled or woken. */
  private async pass(): Promise<void> {
    for (;;) {
      this.again = false;
      const r = await this.batch();
      if (r.error !== undefined) {
        this.backoffMs = Math.min(
          this.maxBackoffMs,
          this.backoffMs === 0 ? this.minBackoffMs : this.backoffMs * 2,
        );
        this.metrics?.failures.inc({ schema: this.db.schema });
        this.options.logger?.warn(
          { err: r.error, schema: this.db.schema, retryInMs: this.backoffMs, published: r.published },
          'outbox relay could not publish; will retry',
        );
        this.schedule(this.backoffMs);
        return;
      }
      this.backoffMs = 0;
      if (this.closed || r.busy || r.seen < this.batchSize) break;
    }
    this.schedule(this.pollIntervalMs);
  }

  /** One batch: read pending rows in order, publish them one by one, delete the published ones. */
  private async batch(): Promise<BatchResult> {
    try {
      if (this.db.engine === 'postgres') {
        // The transaction-scoped lock keeps one relay per schema across instances (per-key order).
        return await this.db.transaction(async (tx) => {
          const { rows } = await tx.query<{ ok: boolean }>(
            'SELECT pg_try_advisory_xact_lock(hashtextextended($1, 0)) AS ok',
            [`refront:outbox:${this.db.schema}`],
          );
          if (!rows[0]?.ok) return { busy: true, seen: 0, published: 0 };
          return await this.publishBatch(tx);
        });
      }
      const key = this.db instanceof EmbeddedDatabase ? this.db.embedded : this.db;
      let running = embeddedRelays.get(key);
      if (!running) {
        running = new Set();
        embeddedRelays.set(key, running);
      }
      if (running.has(this.db.schema)) return { busy: true, seen: 0, published: 0 };
      running.add(this.db.schema);
      try {
        // The embedded engine is one connection: no transaction is held while publishing.
        return await this.publishBatch(this.db);
      } finally {
        running.delete(this.db.schema);
      }
    } catch (e: unknown) {
      return { busy: false, seen: 0, published: 0, error: e };
    }
  }

  private async publishBatch(q: Pick<Database, 'query'>): Promise<BatchResult> {
    const { rows } = await q.query<OutboxRow>(
      `SELECT seq, envelope, body FROM ${this.table} ORDER BY seq LIMIT $1`,
      [this.batchSize],
    );
    const done: number[] = [];
    let error: unknown;
    for (const row of rows) {
      try {
        await this.publishOne(row);
        done.push(row.seq);
      } catch (e: unknown) {
        error = e; // stop here: later rows (maybe of the same key) must not overtake this one
        break;
      }
    }
    if (done.length > 0) {
      await q.query(`DELETE FROM ${this.table} WHERE seq = ANY($1::bigint[])`, [done]);
      this.metrics?.published.inc({ schema: this.db.schema }, done.length);
    }
    return error === undefined
      ? { busy: false, seen: rows.length, published: done.length }
      : { busy: false, seen: rows.length, published: done.length, error };
  }

  private async publishOne(row: OutboxRow): Promise<void> {
    const signal = AbortSignal.timeout(this.publishTimeoutMs);
    const aborted = new Promise<never>((_, reject) => {
      signal.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
    aborted.catch(() => undefined);
    await Promise.race([this.options.publisher.publishRaw(row.envelope, row.body, { signal }), aborted]);
  }
}

/**
 * Creates the transactional outbox of a service database. Events added in a transaction are
 * published after COMMIT by the relay, in insertion order, and deleted only once the publisher
 * confirmed them: a crash between commit and publish re-publishes on the next start (at least
 * once; consumers dedupe with {@link createInbox}). On PostgreSQL one instance relays at a time
 * per schema (transaction-scoped advisory lock per batch).
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a bad option.
 * @example
 * const outbox = createOutbox({ db, source: 'tickets', publisher: bus });
 * outbox.start();
 * // readiness: (await outbox.pending()) < 10_000
 */
export function createOutbox(options: OutboxOptions): Outbox {
  return new OutboxRelay(options);
}
