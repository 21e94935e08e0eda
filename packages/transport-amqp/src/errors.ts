import { CoreErrors, RefrontError } from '@refront/core';

/**
 * Reasons raised by `@refront/transport-amqp`. Invalid options raise core's `CORE_INVALID_OPTION`
 * (INVALID_ARGUMENT) at construction; use after `close()` raises `CORE_CLOSED` (UNAVAILABLE).
 *
 * | reason | status | retryable | meaning |
 * |---|---|---|---|
 * | `AMQP_PUBLISH_NACKED` | UNAVAILABLE | yes | the broker refused the message (basic.nack): not stored |
 * | `AMQP_PUBLISH_TIMEOUT` | UNAVAILABLE | yes | no confirm within `publishTimeoutMs` (disconnected, or broker slow): it may or may not have been stored |
 * | `AMQP_UNROUTABLE` | NOT_FOUND | no | a command's target group has never subscribed: its queue does not exist (basic.return) |
 * | `AMQP_TOPOLOGY_CONFLICT` | FAILED_PRECONDITION | no | the broker has an exchange or queue of that name with other arguments (PRECONDITION_FAILED) |
 * | `AMQP_ALTERNATE_EXCHANGE_MISSING` | FAILED_PRECONDITION | no | a domain exchange exists without the unrouted alternate exchange (declared by an older version): migrate it (message says how) |
 * | `AMQP_NO_UNROUTED_QUEUE` | NOT_FOUND | no | list/replay: the namespace has no `<ns>.unrouted` queue (no bus of that namespace ever connected) |
 * | `AMQP_DISCONNECTED` | UNAVAILABLE | yes | the connection was lost during a declaration or subscribe |
 * | `AMQP_INVALID_ENVELOPE` | INVALID_ARGUMENT | no | dead-letter reason: a delivery without message id or type |
 * | `AMQP_DELIVERY_LIMIT` | ABORTED | no | dead-letter reason: redelivered more than `deliveryLimit` times without an outcome (consumer crashes) |
 * | `AMQP_ROUTING_MISMATCH` | INVALID_ARGUMENT | no | dead-letter reason: published to a domain exchange under a routing key (or to an exchange) that is not its type's |
 * | `AMQP_UNTRUSTED_PUBLISHER` | PERMISSION_DENIED | no | dead-letter reason (with `owners`): its `user_id` is missing or not its owner's broker user, or no service owns its type |
 * | `AMQP_FORGED_EVENT` | PERMISSION_DENIED | no | dead-letter reason (with `owners`): published by the owner's broker user with a `source` that is not the owner |
 *
 * @example
 * if (isRefrontError(e) && e.reason === AmqpReason.PUBLISH_NACKED) await retryLater();
 */
export const AmqpReason = {
  /** The broker answered basic.nack: it did not store the message. */
  PUBLISH_NACKED: 'AMQP_PUBLISH_NACKED',
  /** No broker confirm in time; the message may or may not have been stored. */
  PUBLISH_TIMEOUT: 'AMQP_PUBLISH_TIMEOUT',
  /** A command was returned by the broker: its queue does not exist. */
  UNROUTABLE: 'AMQP_UNROUTABLE',
  /** The broker refused a declaration: an object of that name exists with other arguments. */
  TOPOLOGY_CONFLICT: 'AMQP_TOPOLOGY_CONFLICT',
  /** A domain exchange exists without the `alternate-exchange` argument: unrouted events would be dropped. */
  ALTERNATE_EXCHANGE_MISSING: 'AMQP_ALTERNATE_EXCHANGE_MISSING',
  /** listUnrouted/replayUnrouted: no `<ns>.unrouted` queue in the namespace. */
  NO_UNROUTED_QUEUE: 'AMQP_NO_UNROUTED_QUEUE',
  /** The connection was lost while declaring topology or subscribing. */
  DISCONNECTED: 'AMQP_DISCONNECTED',
  /** A delivery lacked the envelope properties (message id, type). */
  INVALID_ENVELOPE: 'AMQP_INVALID_ENVELOPE',
  /** The quorum queue dead-lettered a message redelivered too often (consumers crashing on it). */
  DELIVERY_LIMIT: 'AMQP_DELIVERY_LIMIT',
  /** Published to a domain exchange under a routing key, or to an exchange, not its type's. */
  ROUTING_MISMATCH: 'AMQP_ROUTING_MISMATCH',
  /** Its `user_id` is missing or not the broker user of its type's owner (or nobody owns the type). */
  UNTRUSTED_PUBLISHER: 'AMQP_UNTRUSTED_PUBLISHER',
  /** Its envelope `source` is not the owner of its type. */
  FORGED_EVENT: 'AMQP_FORGED_EVENT',
} as const;

/** One of the {@link AmqpReason} values. */
export type AmqpReasonCode = (typeof AmqpReason)[keyof typeof AmqpReason];

/** @internal */
export function nackedError(cause: unknown): RefrontError {
  return new RefrontError('UNAVAILABLE', AmqpReason.PUBLISH_NACKED, 'the broker refused the message', {
    cause,
  });
}

/** @internal */
export function publishTimeoutError(timeoutMs: number, connected: boolean): RefrontError {
  const why = connected ? 'the broker did not confirm it' : 'the broker is unreachable';
  return new RefrontError(
    'UNAVAILABLE',
    AmqpReason.PUBLISH_TIMEOUT,
    `publish not confirmed within ${timeoutMs} ms: ${why}; it may or may not have been stored`,
  );
}

/** @internal Used after `close()`. */
export function closedError(): RefrontError {
  return CoreErrors.CLOSED('the event bus');
}

/** @internal A subscribe once `drain()` began. */
export function drainingError(): RefrontError {
  return CoreErrors.DRAINING('the event bus');
}
