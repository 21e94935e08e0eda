import { defineErrors } from '@refront/core';
import { reasonsOf } from '@refront/core/transport';

/** The service that owns an event type and the broker user it publishes as. */
interface Owner {
  readonly service: string;
  readonly user: string;
}

/**
 * The errors `@refront/transport-amqp` raises, and the reasons it dead-letters with, each declared
 * once with its status and meaning (listed in `docs/errors.md#refronttransport-amqp`). Invalid
 * options raise core's `CORE_INVALID_OPTION` at construction; use after `close()` raises
 * `CORE_CLOSED`, a subscribe once `drain()` began `CORE_DRAINING`.
 *
 * @example
 * throw AmqpErrors.UNROUTABLE('refront.billing'); // NOT_FOUND AMQP_UNROUTABLE "no queue refront.billing to send to"
 * if (AmqpErrors.PUBLISH_NACKED.is(e)) await retryLater();
 */
export const AmqpErrors = defineErrors('AMQP', {
  PUBLISH_NACKED: {
    status: 'UNAVAILABLE',
    message: 'the broker refused the message',
    description:
      "The broker answered `basic.nack`: it did not store the message (a full queue, `x-overflow: reject-publish`, or a broker fault). `publish()`, `send()` and `replayUnrouted` reject with it; `cause` has amqplib's error. Publishing again may succeed.",
  },
  PUBLISH_TIMEOUT: {
    status: 'UNAVAILABLE',
    message: (what: string, why: string) => `${what} not confirmed: ${why}`,
    description:
      'No broker confirm within `publishTimeoutMs`, reconnects included (the broker is unreachable or slow): the message may or may not have been stored, so publishing again may deliver it twice (an inbox drops the copy). Also raised when the exchange of a publish could not be declared because the broker stayed unreachable that long (then nothing was sent).',
  },
  UNROUTABLE: {
    status: 'NOT_FOUND',
    message: (queue: string) => `no queue ${queue} to send to`,
    description:
      '`send()` to a consumer group that has never subscribed: its queue does not exist, so the broker returned the command (`basic.return`) instead of dropping it.',
  },
  TOPOLOGY_CONFLICT: {
    status: 'FAILED_PRECONDITION',
    message: (what: string, brokerSaid: string) =>
      `the broker refused the topology of ${what}: ${brokerSaid}`,
    description:
      'The broker refused a declaration (406 PRECONDITION_FAILED): an exchange or queue of that name exists with other arguments (another type, a classic queue, another delivery limit). Retrying does not help: delete or migrate the object.',
  },
  ALTERNATE_EXCHANGE_MISSING: {
    status: 'FAILED_PRECONDITION',
    message: (exchange: string, unroutedExchange: string, policyCommand: string, brokerSaid: string) =>
      `exchange ${exchange} exists without the alternate exchange ${unroutedExchange} ` +
      '(declared by an older Refront or another client), so its unrouted events would be dropped. ' +
      `Migrate: delete it (\`refront-amqp exchange delete ${exchange} --url <url>\`; then restart its ` +
      'consumers so they re-bind, and replay what was parked meanwhile with `refront-amqp unrouted replay`), ' +
      `or keep it and set the alternate exchange by policy: \`${policyCommand}\` ` +
      `and create the bus with alternateExchange: 'policy'. Broker said: ${brokerSaid}`,
    description:
      "A domain exchange exists without the `<ns>.unrouted` alternate exchange (declared by an older version or another client), so its unrouted events would be dropped. The message says how to migrate: delete it with `refront-amqp exchange delete`, or set the alternate exchange by policy and create the bus with `alternateExchange: 'policy'`.",
  },
  NO_UNROUTED_QUEUE: {
    status: 'NOT_FOUND',
    message: (queue: string, namespace: string) =>
      `no queue ${queue}: no bus of namespace ${namespace} has connected to this broker`,
    description:
      '`listUnrouted`, `replayUnrouted` or `refront-amqp unrouted` found no `<ns>.unrouted` queue: a wrong namespace, or no bus of that namespace ever connected to this broker.',
  },
  NO_DEAD_LETTER_QUEUE: {
    status: 'NOT_FOUND',
    message: (queue: string, group: string, namespace: string) =>
      `no dead-letter queue ${queue}: ${group} is not a consumer group of namespace ${namespace}`,
    description:
      '`listDeadLetters`, `replayDeadLetters`, `discardDeadLetters` (and `refront dlq`, the console) found no `<ns>.<group>.dlq` queue: a wrong namespace or group, or the group never subscribed on this broker.',
  },
  DEAD_LETTER_NOT_FOUND: {
    status: 'NOT_FOUND',
    message: (group: string, eventId: string) => `the dead letters of ${group} hold no event ${eventId}`,
    description:
      "A replay or discard of one dead letter (`amqpDeadLetters`, the console) named an event id its group's dead-letter queue does not hold: it was replayed or discarded meanwhile.",
  },
  DISCONNECTED: {
    status: 'UNAVAILABLE',
    message: (what: string, why: string) => `cannot ${what}: ${why}`,
    description:
      "The broker stayed unreachable for `publishTimeoutMs` when the bus started or subscribed, or the connection was lost while declaring a group's or an exchange's topology. Retrying once the broker is back succeeds.",
  },
  INVALID_ENVELOPE: {
    status: 'INVALID_ARGUMENT',
    message: 'the delivery has no message id or type',
    description:
      'Dead-letter reason: a delivery without `message-id` or `type` (a publisher that is not Refront), dead-lettered before any handler.',
  },
  DELIVERY_LIMIT: {
    status: 'ABORTED',
    message: 'dead-lettered by the broker: delivered more than the delivery limit without an outcome',
    retryable: false,
    description:
      "Dead-letter reason: the group's quorum queue dead-lettered a message delivered more than `deliveryLimit` times without an outcome (consumers crashed or lost their channel while handling it).",
  },
  BROKER_DEAD_LETTERED: {
    status: 'ABORTED',
    message: (brokerReason: string) => `dead-lettered by the broker: ${brokerReason}`,
    retryable: false,
    description:
      "Dead-letter reason: the broker moved the message to the DLQ for another reason than the delivery limit (`expired`, `maxlen` or `rejected`: an operator's policy or another client); the error names the broker's `x-death` reason.",
  },
  ROUTING_MISMATCH: {
    status: 'INVALID_ARGUMENT',
    message: (type: string, exchange: string, routingKey: string) =>
      `a ${type} published to ${exchange} under routing key ${routingKey}`,
    description:
      "Dead-letter reason: an event published to a domain exchange under a routing key that is not its type, or to an exchange that is not its type's; refused before any handler and counted in `refront_events_refused_total`.",
  },
  UNTRUSTED_PUBLISHER: {
    status: 'PERMISSION_DENIED',
    message: (type: string, owner?: Owner, publisher?: string) =>
      owner === undefined
        ? `no service owns ${type}`
        : `${type} is owned by ${owner.service} (broker user ${owner.user}) but was published by ${
            publisher === undefined ? 'a client that set no user_id' : `broker user ${publisher}`
          }`,
    description:
      "Dead-letter reason (with `owners`): an event without `user_id`, with one that is not its owner's broker user, or of a type no service owns; refused before any handler and counted in `refront_events_refused_total`.",
  },
  FORGED_EVENT: {
    status: 'PERMISSION_DENIED',
    message: (type: string, owner: Owner, source: string) =>
      `${type} from broker user ${owner.user} claims source ${source}, not its owner ${owner.service}`,
    description:
      "Dead-letter reason (with `owners`): an event published by its owner's broker user with an envelope `source` that is not the owner; refused before any handler and counted in `refront_events_refused_total`.",
  },
});

/**
 * The reason codes of {@link AmqpErrors}, for comparisons.
 *
 * @example
 * if (isRefrontError(e) && e.reason === AmqpReason.PUBLISH_NACKED) await retryLater();
 */
export const AmqpReason = reasonsOf(AmqpErrors);

/** One of the {@link AmqpReason} codes. */
export type AmqpReasonCode = (typeof AmqpReason)[keyof typeof AmqpReason];
