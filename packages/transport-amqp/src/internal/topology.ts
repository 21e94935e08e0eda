import { RefrontError } from '@refront/core';
import type { Channel } from 'amqplib';
import { AmqpReason } from '../errors.js';
import type { TopologyNames } from '../names.js';

/** What one consumer group needs declared. */
export interface GroupTopology {
  readonly group: string;
  /** Fully-qualified event types bound to the group's queue. */
  readonly types: readonly string[];
  /** Distinct retry delays, in ms. */
  readonly retryDelaysMs: readonly number[];
  /** Deliveries of one message before the broker dead-letters it (crash loops). */
  readonly deliveryLimit: number;
}

/** Quorum queue arguments shared by every queue Refront declares. */
function quorum(extra: Record<string, unknown>): Record<string, unknown> {
  return { 'x-queue-type': 'quorum', ...extra };
}

/**
 * Arguments of a group's main queue. Broker-side dead-lettering (the delivery limit) goes to the
 * group's DLQ at least once, which RabbitMQ allows only with `reject-publish` overflow.
 */
export function groupQueueArguments(names: TopologyNames, group: string, deliveryLimit: number) {
  return quorum({
    'x-delivery-limit': deliveryLimit,
    'x-dead-letter-exchange': '',
    'x-dead-letter-routing-key': names.deadLetterQueue(group),
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
  });
}

/**
 * Declares a group's topology: its DLQ, its retry queues (message TTL, dead-lettering back to
 * the group's queue), its queue, the domain exchanges and one binding per event type. Every
 * declaration is idempotent: run again after each reconnect with the same arguments.
 * @throws RefrontError FAILED_PRECONDITION `AMQP_TOPOLOGY_CONFLICT` when an object exists with other arguments.
 */
export async function declareGroup(ch: Channel, names: TopologyNames, t: GroupTopology): Promise<void> {
  const queue = names.queue(t.group);
  try {
    await ch.assertQueue(names.deadLetterQueue(t.group), { durable: true, arguments: quorum({}) });
    for (const delay of t.retryDelaysMs) {
      await ch.assertQueue(names.retryQueue(t.group, delay), {
        durable: true,
        arguments: quorum({
          'x-message-ttl': delay,
          'x-dead-letter-exchange': '',
          'x-dead-letter-routing-key': queue,
          'x-dead-letter-strategy': 'at-least-once',
          'x-overflow': 'reject-publish',
        }),
      });
    }
    await ch.assertQueue(queue, {
      durable: true,
      arguments: groupQueueArguments(names, t.group, t.deliveryLimit),
    });
    for (const type of t.types) {
      const exchange = names.exchange(type);
      await ch.assertExchange(exchange, 'topic', { durable: true });
      await ch.bindQueue(queue, exchange, type);
    }
  } catch (e: unknown) {
    throw topologyError(e, `consumer group ${t.group}`);
  }
}

/** Maps a refused declaration to a typed error; other failures (connection lost) become UNAVAILABLE. */
export function topologyError(e: unknown, what: string): RefrontError {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 406)
    return new RefrontError(
      'FAILED_PRECONDITION',
      AmqpReason.TOPOLOGY_CONFLICT,
      `the broker refused the topology of ${what}: ${e instanceof Error ? e.message : String(e)}`,
      { cause: e, retryable: false },
    );
  return new RefrontError(
    'UNAVAILABLE',
    AmqpReason.DISCONNECTED,
    `lost the broker while declaring ${what}: ${e instanceof Error ? e.message : String(e)}`,
    { cause: e },
  );
}
