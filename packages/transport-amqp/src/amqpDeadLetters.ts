import type { DeadLetter } from '@refront/core/transport';
import {
  type DeadLetterResult,
  discardDeadLetters,
  listDeadLetters,
  replayDeadLetters,
} from './deadLetterQueue.js';
import { AmqpErrors } from './errors.js';

/** Options of {@link amqpDeadLetters}. */
export interface AmqpDeadLettersOptions {
  /** Broker URL; each call opens a connection and closes it after. */
  readonly url: string;
  /** The bus namespace. @default DEFAULT_NAMESPACE ('refront') */
  readonly namespace?: string;
  /** The consumer groups a listing of every group reads (AMQP cannot list queues). */
  readonly groups: readonly string[];
  /** Dead letters read per group at most. @default 100 */
  readonly limit?: number;
  /** The URL's user has RabbitMQ's `impersonator` tag (see {@link replayDeadLetters}). @default false */
  readonly impersonate?: boolean;
}

/** The dead letters of a RabbitMQ bus, one group or all, with replay and discard. */
export interface AmqpDeadLetters {
  /** Dead letters of every group of `groups` (a group without a queue yet has none), or of one, oldest first. */
  list(group?: string): Promise<readonly DeadLetter[]>;
  /**
   * Puts one back into its group's queue as a first attempt.
   * @throws RefrontError NOT_FOUND `AMQP_DEAD_LETTER_NOT_FOUND` or `AMQP_NO_DEAD_LETTER_QUEUE`.
   */
  replay(group: string, eventId: string): Promise<void>;
  /**
   * Drops one for good.
   * @throws RefrontError NOT_FOUND `AMQP_DEAD_LETTER_NOT_FOUND` or `AMQP_NO_DEAD_LETTER_QUEUE`.
   */
  discard(group: string, eventId: string): Promise<void>;
  /** Replays every dead letter the group's queue holds now; returns their event ids. */
  replayAll(group: string): Promise<readonly string[]>;
}

/**
 * The dead letters of the RabbitMQ bus behind the shape `@refront/console`'s `DeadLetterSource`
 * has, built on {@link listDeadLetters}, {@link replayDeadLetters} and {@link discardDeadLetters}
 * (the `refront dlq` commands use them too).
 *
 * @example
 * createConsole({ enabled: true, token, deadLetters: amqpDeadLetters({ url, groups: ['ai', 'reporting'] }) });
 */
export function amqpDeadLetters(options: AmqpDeadLettersOptions): AmqpDeadLetters {
  const at = (group: string) => ({
    url: options.url,
    group,
    ...(options.namespace === undefined ? {} : { namespace: options.namespace }),
  });
  const one = (group: string, eventId: string, r: DeadLetterResult) => {
    if (r.ids.length === 0) throw AmqpErrors.DEAD_LETTER_NOT_FOUND(group, eventId);
  };
  return {
    async list(group) {
      const groups = group === undefined ? options.groups : [group];
      const lists = await Promise.all(
        groups.map((g) =>
          listDeadLetters({ ...at(g), limit: options.limit ?? 100 }).catch((e: unknown) => {
            // Listing every group: one that never subscribed has no queue yet, hence no dead letter.
            if (group === undefined && AmqpErrors.NO_DEAD_LETTER_QUEUE.is(e)) return [];
            throw e;
          }),
        ),
      );
      return lists.flat();
    },
    async replay(group, eventId) {
      one(
        group,
        eventId,
        await replayDeadLetters({ ...at(group), ids: [eventId], impersonate: options.impersonate ?? false }),
      );
    },
    async discard(group, eventId) {
      one(group, eventId, await discardDeadLetters({ ...at(group), ids: [eventId] }));
    },
    async replayAll(group) {
      return (await replayDeadLetters({ ...at(group), impersonate: options.impersonate ?? false })).ids;
    },
  };
}
