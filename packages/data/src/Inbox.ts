import {
  counterOf,
  type EventContext,
  type EventHandler,
  type Logger,
  type MetricsRegistry,
} from '@refront/core';
import { type EventEnvelope, invalidOption } from '@refront/core/transport';
import type { Counter } from 'prom-client';
import type { Database, Transaction } from './Database.js';

/**
 * Idempotent consumer: remembers processed message ids per consumer group in the service's database.
 *
 * @example
 * const inbox = createInbox({ db, group: 'billing' });
 * await bus.subscribe('billing', [
 *   on(TimeLogged, inbox.handler(async (event, ctx, tx) => {
 *     await tx.query('insert into lines (entry_id, minutes) values ($1, $2)', [event.entryId, event.minutes]);
 *   })),
 * ]);
 */
export interface Inbox {
  /**
   * Runs fn in a transaction unless this message id was already processed by `group`; the id is
   * recorded in the same transaction. Returns { duplicate: true } (fn not run) for a repeat.
   * A throw from fn rolls back both fn's work and the record, so a redelivery runs it again.
   */
  handleOnce<R>(
    envelope: EventEnvelope,
    fn: (tx: Transaction) => Promise<R>,
  ): Promise<{ duplicate: boolean; value?: R }>;
  /** Wraps a handler: `on(TicketCreated, inbox.handler(async (event, ctx, tx) => …))`. */
  handler<T>(fn: (event: T, context: EventContext, tx: Transaction) => Promise<void>): EventHandler<T>;
}

/** Options of {@link createInbox}. */
export interface InboxOptions {
  /** The consumer service's database (its `refront_inbox` table). */
  readonly db: Database;
  /** Consumer group the ids are remembered for (usually the subscription's group). */
  readonly group: string;
  /** Registry for `refront_inbox_duplicates_total{group}`. @default none */
  readonly metrics?: MetricsRegistry;
  /** Logger for suppressed duplicates (debug). @default silent */
  readonly logger?: Logger;
}

function duplicatesCounter(registry: MetricsRegistry): Counter<'group'> {
  return counterOf(
    registry,
    'refront_inbox_duplicates_total',
    'Messages an inbox skipped because their id was already processed',
    ['group'],
  );
}

/**
 * Creates an idempotent-consumer inbox on `db`. Concurrent deliveries of one id run `fn` once:
 * the second waits on the first's uncommitted row (PostgreSQL) or its turn (PGlite), then sees it.
 *
 * @throws RefrontError INVALID_ARGUMENT `CORE_INVALID_OPTION` for a missing db or empty group.
 * @example
 * const { duplicate } = await inbox.handleOnce(ctx.envelope, (tx) => apply(tx, event));
 */
export function createInbox(options: InboxOptions): Inbox {
  const { db, group, logger } = options;
  if (!db || typeof db.transaction !== 'function') throw invalidOption('db must be a Database');
  if (typeof group !== 'string' || group.trim() === '')
    throw invalidOption('group must be a non-empty string');
  const duplicates = options.metrics ? duplicatesCounter(options.metrics) : undefined;
  const table = `"${db.schema}".refront_inbox`;

  const handleOnce = async <R>(
    envelope: EventEnvelope,
    fn: (tx: Transaction) => Promise<R>,
  ): Promise<{ duplicate: boolean; value?: R }> => {
    if (typeof envelope?.id !== 'string' || envelope.id === '')
      throw invalidOption('envelope.id must be a non-empty string');
    const outcome = await db.transaction(async (tx) => {
      const recorded = await tx.query(
        `INSERT INTO ${table} (group_name, message_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING message_id`,
        [group, envelope.id],
      );
      if (recorded.rows.length === 0) return { duplicate: true };
      return { duplicate: false, value: await fn(tx) };
    });
    if (outcome.duplicate) {
      duplicates?.inc({ group });
      logger?.debug({ group, messageId: envelope.id, type: envelope.type }, 'duplicate message skipped');
    }
    return outcome;
  };

  return {
    handleOnce,
    handler<T>(fn: (event: T, context: EventContext, tx: Transaction) => Promise<void>): EventHandler<T> {
      return async (event, context) => {
        await handleOnce(context.envelope, (tx) => fn(event, context, tx));
      };
    },
  };
}
